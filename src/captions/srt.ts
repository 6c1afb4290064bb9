import type { Transcript } from "../domain/transcript.js";
import { buildCues } from "./cues.js";
import type { CaptionOptions } from "./options.js";
import { formatTimestamp } from "./timestamps.js";

/**
 * SubRip captions from a transcript's word timings (cue rules: `buildCues`). Each cue is
 * `n\nhh:mm:ss,mmm --> hh:mm:ss,mmm\ntext\n\n`, numbered from 1, LF line endings. Text is written as
 * is: SRT has no escaping. No cues gives `""`. Throws when the transcript has text but no word
 * timings, or on invalid times or options.
 */
export function toSrt(transcript: Pick<Transcript, "text" | "words">, options?: CaptionOptions): string {
  return buildCues(transcript, options)
    .map((cue, i) => `${i + 1}\n${formatTimestamp(cue.startMs, ",")} --> ${formatTimestamp(cue.endMs, ",")}\n${cue.text}\n\n`)
    .join("");
}
