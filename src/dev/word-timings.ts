import type { Word } from "../domain/transcript.js";

/** Seconds per word when the audio's length is unknown: an ordinary speaking pace (150 words a minute). */
const SECONDS_PER_WORD = 0.4;

/**
 * Splits `text` on whitespace and gives every word an equal slice of `durationSec` (default
 * {@link SECONDS_PER_WORD} per word). Plausible, not measured: no engine here hears the audio.
 */
export function spreadWords(text: string, durationSec?: number): { words: Word[]; durationSec: number } {
  const tokens = text.split(/\s+/).filter((token) => token.length > 0);
  const total = durationSec ?? tokens.length * SECONDS_PER_WORD;
  const slot = tokens.length > 0 ? total / tokens.length : 0;
  const words = tokens.map((token, index) => ({
    text: token,
    start: milliseconds(index * slot),
    end: milliseconds((index + 1) * slot),
    // The text is the ground truth the sidecar or the test published, so there is nothing to doubt.
    confidence: 1,
  }));
  return { words, durationSec: milliseconds(total) };
}

function milliseconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
