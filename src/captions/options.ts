import { z } from "zod";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";

/** How `toSrt` and `toVtt` cut a transcript into cues. Every field is optional; an unknown key is an error. */
export interface CaptionOptions {
  /**
   * Longest cue line, in characters (Unicode code points of the displayed text, before any VTT
   * escaping), counting the single space between words; the usual broadcast line limit. Each cue
   * is one line. A single word longer than this still gets a cue of its own: words are never split.
   * @default 42
   */
  maxChars?: number;
  /**
   * Longest cue, in seconds, from its first word's start to its last word's end. A single word
   * longer than this still gets a cue of its own.
   * @default 7
   */
  maxDurationSec?: number;
  /**
   * A silence between two words longer than this, in seconds, starts a new cue, so no caption
   * stays on screen over it. A pause of exactly this length does not split.
   * @default 1.5
   */
  maxGapSec?: number;
  /**
   * Duration, in seconds, given to a cue whose words have no length (every `end <= start`), so it
   * is visible at all; shortened when the next cue starts sooner. Must not exceed `maxDurationSec`.
   * @default 0.5
   */
  minDurationSec?: number;
}

/** A positive number option; the message names the unit and the default, as a user fixing it needs both. */
function positive(unit: string, defaultValue: number, whole = false) {
  const message = `must be a positive ${whole ? "whole " : ""}number of ${unit} (default ${defaultValue})`;
  const number = z.number({ error: message });
  return (whole ? number.int({ error: message }) : number).positive({ error: message }).default(defaultValue);
}

const captionOptionsSchema = z
  .strictObject({
    maxChars: positive("characters", 42, true),
    maxDurationSec: positive("seconds", 7),
    maxGapSec: positive("seconds", 1.5),
    minDurationSec: positive("seconds", 0.5),
  })
  .refine((options) => options.minDurationSec <= options.maxDurationSec, {
    path: ["minDurationSec"],
    // Only once both values are valid numbers: an invalid one is reported on its own.
    when: (payload) => payload.issues.length === 0,
    error: (issue) => {
      const { minDurationSec, maxDurationSec } = issue.input as Required<CaptionOptions>;
      return `${minDurationSec} is longer than maxDurationSec (${maxDurationSec}); lower minDurationSec or raise maxDurationSec`;
    },
  });

// Fails to compile when the interface above and the schema disagree on a field.
true satisfies Same<z.input<typeof captionOptionsSchema>, CaptionOptions>;

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveCaptionOptions(options: CaptionOptions = {}): Required<CaptionOptions> {
  return parseOptions(captionOptionsSchema, options, "caption");
}
