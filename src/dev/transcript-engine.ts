import { z } from "zod";
import { wireWordSchema } from "../providers/generic-wire.js";
import type { Word } from "../domain/transcript.js";
import { spreadWords } from "./word-timings.js";

/** What the emulator hands an engine besides the audio URL. */
export interface EngineContext {
  /** Aborted when the emulator closes; an engine doing I/O should pass it on. */
  signal: AbortSignal;
  /**
   * The file on disk behind a URL this emulator serves under `/files/` (its `publicDir`),
   * `undefined` for any other URL. Lets an engine skip an HTTP round trip to its own server.
   */
  localPath?: (url: string) => string | undefined;
}

/** An engine's answer. Times are in seconds. */
export interface EngineResult {
  text: string;
  /** Omitted: the emulator spreads the words of `text` evenly over `durationSec`. */
  words?: Word[];
  /** Omitted: the `language` of the submit, if it had one. */
  language?: string;
  durationSec?: number;
}

/**
 * Produces the transcript of one job. A rejection ends the job with status `"error"` and the
 * rejection's message as the job's `error`.
 */
export type TranscriptEngine = (audioUrl: string, context: EngineContext) => Promise<EngineResult>;

/** Engines are user code: their answer is checked before it reaches a webhook. */
export const engineResultSchema = z.object({
  text: z.string(),
  words: z.array(wireWordSchema).optional(),
  language: z.string().min(1).optional(),
  durationSec: z.number().nonnegative().optional(),
});

/** A finished job's transcript, with everything a full webhook carries. */
export interface JobResult {
  text: string;
  words: Word[];
  language?: string;
  durationSec?: number;
}

export function toJobResult(result: z.output<typeof engineResultSchema>, requestedLanguage?: string): JobResult {
  const timing = result.words ? { words: result.words, durationSec: result.durationSec } : spreadWords(result.text, result.durationSec);
  return { text: result.text, ...timing, language: result.language ?? requestedLanguage };
}
