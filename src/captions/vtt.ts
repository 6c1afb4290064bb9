import type { Transcript } from "../domain/transcript.js";
import { buildCues } from "./cues.js";
import type { CaptionOptions } from "./options.js";
import { formatTimestamp } from "./timestamps.js";

/**
 * WebVTT captions from a transcript's word timings (cue rules: `buildCues`): `WEBVTT\n\n`, then
 * per cue `hh:mm:ss.mmm --> hh:mm:ss.mmm\ntext\n\n`, LF line endings. No cues gives `"WEBVTT\n\n"`,
 * still a valid file. Throws when the transcript has text but no word timings, or on invalid times
 * or options.
 */
export function toVtt(transcript: Pick<Transcript, "text" | "words">, options?: CaptionOptions): string {
  const cues = buildCues(transcript, options).map(
    (cue) => `${formatTimestamp(cue.startMs, ".")} --> ${formatTimestamp(cue.endMs, ".")}\n${escapeVttText(cue.text)}\n\n`,
  );
  return `WEBVTT\n\n${cues.join("")}`;
}

/**
 * WebVTT cue text is markup: `<` opens a tag and `&` an entity, and `-->` must not appear, so
 * these are escaped (`>` too, which covers `-->`). `&` goes first so the others are not re-escaped.
 */
function escapeVttText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
