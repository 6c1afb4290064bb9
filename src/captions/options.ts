import { ConfigurationError } from "../errors/index.js";

/** How `toSrt` and `toVtt` cut a transcript into cues. Every field is optional. */
export interface CaptionOptions {
  /**
   * Longest cue line, in characters (Unicode code points of the displayed text, before any VTT
   * escaping), counting the single space between words. Default `42`, the usual broadcast line
   * limit. Each cue is one line. A single word longer than this still gets a cue of its own:
   * words are never split.
   */
  maxChars?: number;
  /**
   * Longest cue, in seconds, from its first word's start to its last word's end. Default `7`.
   * A single word longer than this still gets a cue of its own.
   */
  maxDurationSec?: number;
  /**
   * A silence between two words longer than this, in seconds, starts a new cue, so no caption
   * stays on screen over it. Default `1.5`. A pause of exactly this length does not split.
   */
  maxGapSec?: number;
  /**
   * Duration, in seconds, given to a cue whose words have no length (every `end <= start`), so it
   * is visible at all; shortened when the next cue starts sooner. Default `0.5`. Must not exceed
   * `maxDurationSec`.
   */
  minDurationSec?: number;
}

export const DEFAULT_CAPTION_OPTIONS: Readonly<Required<CaptionOptions>> = Object.freeze({
  maxChars: 42,
  maxDurationSec: 7,
  maxGapSec: 1.5,
  minDurationSec: 0.5,
});

/** Fills in the defaults and rejects values that cannot work, naming the option. */
export function resolveCaptionOptions(options: CaptionOptions = {}): Required<CaptionOptions> {
  const resolved = { ...DEFAULT_CAPTION_OPTIONS };
  for (const key of Object.keys(DEFAULT_CAPTION_OPTIONS) as (keyof CaptionOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const whole = key === "maxChars";
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
      throw new ConfigurationError(
        `Invalid caption option ${key}: ${String(value)}; it must be a positive ${whole ? "whole number of characters" : "number of seconds"} (default ${DEFAULT_CAPTION_OPTIONS[key]})`,
      );
    }
    resolved[key] = value;
  }
  if (resolved.minDurationSec > resolved.maxDurationSec) {
    throw new ConfigurationError(
      `Invalid caption options: minDurationSec (${resolved.minDurationSec}) is longer than maxDurationSec (${resolved.maxDurationSec}); lower minDurationSec or raise maxDurationSec`,
    );
  }
  return resolved;
}
