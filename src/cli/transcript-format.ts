import { toSrt, toVtt } from "../captions/index.js";
import type { Transcript } from "../domain/transcript.js";

export const FORMATS = ["text", "json", "srt", "vtt"] as const;
export type Format = (typeof FORMATS)[number];

/** Renders a transcript for stdout or `--out`. JSON leaves out `raw`, the provider's payload. */
export function formatTranscript(transcript: Transcript, format: Format): string {
  switch (format) {
    case "text":
      return `${transcript.text}\n`;
    case "json": {
      const { raw: _raw, ...rest } = transcript;
      return `${JSON.stringify(rest, null, 2)}\n`;
    }
    case "srt":
      return toSrt(transcript);
    case "vtt":
      return toVtt(transcript);
  }
}
