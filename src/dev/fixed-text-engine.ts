import type { TranscriptEngine } from "./transcript-engine.js";
import { spreadWords } from "./word-timings.js";

/**
 * An engine that answers `text` for every job without any I/O, words 0.4 s apart: deterministic,
 * for tests and benchmarks.
 */
export function fixedTextEngine(text: string): TranscriptEngine {
  const { words, durationSec } = spreadWords(text);
  return async () => ({ text, words, durationSec });
}
