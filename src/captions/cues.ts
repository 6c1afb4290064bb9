import { CaptionError } from "../errors/index.js";
import type { Transcript, Word } from "../domain/transcript.js";
import { type CaptionOptions, resolveCaptionOptions } from "./options.js";
import { secondsToMs } from "./timestamps.js";

/** One caption: a single line of text shown from `startMs` to `endMs` (whole milliseconds). */
export interface Cue {
  startMs: number;
  endMs: number;
  text: string;
}

/** A word ready for grouping: clean text, integer times, `endMs >= startMs`. */
interface TimedWord {
  text: string;
  startMs: number;
  endMs: number;
}

/** A cue being filled; `chars` is the display length of `text`. */
interface Group extends Cue {
  chars: number;
  /** Set after a sentence end that closes the cue: the next word starts a new one. */
  closed: boolean;
}

/**
 * A word that ends a sentence: `.`, `?` or `!`, possibly followed by closing quotes or brackets
 * (`"Stop!"`, `(really?)`). Abbreviations such as `Dr.` also match; that only costs an early break,
 * and only once the cue is already half full (see `buildCues`).
 */
const SENTENCE_END = /[.?!]["'”’)\]]*$/u;

/**
 * Groups a transcript's words into ordered, non-overlapping cues.
 *
 * Words are taken in order; the next word starts a new cue when adding it would make the line
 * longer than `maxChars`, or the cue longer than `maxDurationSec`, or when the silence before it
 * is longer than `maxGapSec`. A cue also ends after a sentence-ending word once it holds at least
 * half of `maxChars` (21 characters by default): a short "Yes." or "Hi." stays with what follows
 * instead of flashing alone, while longer sentences get cues of their own.
 *
 * Timing: a cue runs from its first word's start to its latest word end. A cue with no length
 * (zero-length words) lasts `minDurationSec`; every cue is then cut at the next cue's start, so cues
 * never overlap (which can leave a zero-length cue in the rare case where two cues start at the
 * same millisecond).
 *
 * Throws a `TypeError` naming the word index for a start or end that is not a finite number >= 0,
 * or for words out of time order; a word whose `end` is before its `start` counts as zero-length.
 * Words whose text is blank are skipped (never an empty cue); whitespace inside a word's text is
 * collapsed to single spaces so it cannot break the cue layout.
 *
 * No words: an empty list of cues when the text is blank too, and an error when there is text,
 * since captions need word timings and spreading the text evenly would need a duration and would
 * show words at the wrong time.
 */
export function buildCues(transcript: Pick<Transcript, "text" | "words">, options?: CaptionOptions): Cue[] {
  const opts = resolveCaptionOptions(options);
  if (typeof transcript !== "object" || transcript === null || typeof transcript.text !== "string" || !Array.isArray(transcript.words)) {
    throw new CaptionError("Captions are made from a transcript: an object with `text` (a string) and `words` (an array)");
  }
  if (transcript.words.length === 0) {
    if (transcript.text.trim() === "") return [];
    throw new CaptionError(
      "Captions need word timings, and the provider did not return any for this transcript (it has text but no words); use the plain text instead, or a provider that returns word timestamps",
    );
  }

  const maxDurationMs = secondsToMs(opts.maxDurationSec);
  const maxGapMs = secondsToMs(opts.maxGapSec);
  const groups: Group[] = [];
  let current: Group | undefined;
  for (const word of readWords(transcript.words)) {
    const chars = [...word.text].length;
    if (
      current &&
      (current.closed ||
        current.chars + 1 + chars > opts.maxChars ||
        word.endMs - current.startMs > maxDurationMs ||
        word.startMs - current.endMs > maxGapMs)
    ) {
      current = undefined;
    }
    if (current) {
      current.text += ` ${word.text}`;
      current.chars += 1 + chars;
      // Words may overlap slightly: the cue lasts until the latest end, not the last word's.
      current.endMs = Math.max(current.endMs, word.endMs);
    } else {
      current = { ...word, chars, closed: false };
      groups.push(current);
    }
    current.closed = SENTENCE_END.test(word.text) && current.chars * 2 >= opts.maxChars;
  }

  const minDurationMs = secondsToMs(opts.minDurationSec);
  return groups.map((group, i) => {
    let endMs = group.endMs > group.startMs ? group.endMs : group.startMs + minDurationMs;
    const next = groups[i + 1];
    if (next) endMs = Math.min(endMs, next.startMs);
    return { startMs: group.startMs, endMs, text: group.text };
  });
}

/** Validates and normalises the words, in order; see `buildCues` for the rules. */
function readWords(words: readonly Word[]): TimedWord[] {
  const out: TimedWord[] = [];
  let previousStart = 0;
  words.forEach((word, i) => {
    if (typeof word.text !== "string") {
      throw new CaptionError(`Cannot build captions: words[${i}].text is ${typeof word.text}, not a string`);
    }
    const startMs = readTime(word, i, "start");
    const endMs = readTime(word, i, "end");
    if (i > 0 && word.start < previousStart) {
      throw new CaptionError(
        `Cannot build captions: words[${i}] starts at ${word.start} s, before words[${i - 1}] (${previousStart} s); words must be in time order`,
      );
    }
    previousStart = word.start;
    const text = word.text.trim().replace(/\s+/g, " ");
    if (text !== "") out.push({ text, startMs, endMs: Math.max(startMs, endMs) });
  });
  return out;
}

function readTime(word: Word, index: number, field: "start" | "end"): number {
  const seconds = word[field];
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    throw new CaptionError(
      `Cannot build captions: words[${index}] has ${field} = ${String(seconds)}; word times must be finite numbers of seconds >= 0`,
    );
  }
  return secondsToMs(seconds);
}
