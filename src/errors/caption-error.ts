import { HookscribeError } from "./hookscribe-error.js";

/**
 * `toSrt`/`toVtt` cannot make captions of this transcript: it has no word timings, or a word's
 * times are not finite, non-negative and in order. The message names the word by index, never
 * by its text.
 */
export class CaptionError extends HookscribeError {
  override readonly name = "CaptionError";
}
