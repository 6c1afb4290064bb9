import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { toSrt, toVtt, type CaptionOptions } from "../src/captions/index.js";
import { buildCues } from "../src/captions/cues.js";
import { formatTimestamp, secondsToMs } from "../src/captions/timestamps.js";
import { CaptionError, ConfigurationError } from "../src/errors/index.js";
import type { Transcript, Word } from "../src/domain/transcript.js";

type Input = Pick<Transcript, "text" | "words">;

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/captions/${name}`, import.meta.url), "utf8");
const transcript = (name: string): Input => JSON.parse(fixture(`${name}.json`)) as Input;

/**
 * Each fixture's .srt and .vtt were written by hand from the rules (defaults: 42 chars, 7 s,
 * 1.5 s gap, 0.5 s minimum), not produced by the code. How each expected cue follows:
 */
const FIXTURES: Record<string, string> = {
  // "Welcome back to the weekly update." is 34 chars, ends a sentence and 34 >= 42/2, so the cue
  // closes there: 0.000 (Welcome) -> 2.000 (update.). "Today we cover captions." (24) is the
  // last cue: 2.300 -> 3.900. No gap over 0.3 s, nothing near 7 s.
  "two-sentences": "a normal two-sentence transcript",
  // "Hi." ends a sentence but is 3 chars < 21, so it does not close the cue; the whole 24-char
  // line is one cue, 0.200 -> 1.900.
  "short-sentence": "a short sentence stays with what follows",
  // Words every 0.3 s, each 0.25 s long, no punctuation. "...the lazy ox" is exactly 42 chars
  // (kept: only longer splits); "and" would make 46, so cue 1 = words 0-8, 0.000 -> 2.650 (ox).
  // Cue 2 grows to "...into the deep" (39); "green" would make 45: 2.700 -> 5.350.
  // Cue 3 "green forest" 5.400 -> 5.950. Total under 6 s, so duration never splits.
  "line-length": "line length splits at 42 characters",
  // Back-to-back 1 s words from 10.2 s. Word 6 "and" ends at 17.2: 17.2 - 10.2 = exactly 7 s, kept
  // (only longer splits; in floats that subtraction is not exactly 7, in ms it is). Word 7 "then"
  // would end at 18.2 (8 s): new cue. Cue 1 10.200 -> 17.200 (26 chars, so chars never split),
  // cue 2 17.200 -> 20.200: touching, not overlapping.
  "duration": "duration splits at 7 seconds",
  // "me" ends at 1.2, "think" starts at 2.7: a pause of exactly 1.5 s (1.5000000000000002 in
  // floats) does not split. "think" ends at 3.0 and "right" starts at 6.0: 3 s > 1.5 s, new cue.
  // Cue 1 0.500 -> 3.000, cue 2 6.000 -> 7.300.
  "pause": "a long pause starts a new cue",
  // The 45-char word cannot join "the word" (8 + 1 + 45 = 54) and "is" cannot join it
  // (45 + 1 + 2 = 48), so it sits alone, unsplit: 0.700 -> 2.500 between "the word"
  // 0.000 -> 0.600 and "is long" 2.600 -> 3.100.
  "long-word": "a word longer than 42 characters gets its own cue",
  // Every word has start == end. Words 0-4 all at 1.0 s make a 37-char sentence (>= 21): it closes.
  // Its length is 0, so it would last 0.5 s (to 1.500), but the next cue starts at 1.2: end 1.200.
  // "Really they do." (15 chars < 21, so its "." does not close it) runs 1.200 -> 1.600.
  // "Bye." has end 4.8 < start 5.0 (counts as zero-length), comes 3.4 s later (new cue), and is
  // last: 5.000 -> 5.500.
  "zero-length": "zero-length word timings get a minimum duration without overlapping",
  // One 34-char cue 0.000 -> 2.600. VTT escapes & < > (so "-->" cannot fake a timing line); SRT
  // keeps the text as is. Escaped it is 47 chars: the 42 limit counts the displayed text.
  "escaping": "VTT escapes &, <, >",
  // 3725.5 s = 1 h 2 min 5.5 s -> 01:02:05,500. "here" ends at 3726.2496 s, rounded to the nearest
  // ms: 06,250 (floor would give 06,249). "Bye" is ~9 h later (new cue): 36001.001 s = 10:00:01,001.
  "hours": "timestamps past one hour, rounded to the millisecond",
  // No text, no words: SRT is an empty file, VTT is just the header.
  "empty": "an empty transcript gives a valid empty document",
};

describe("captions fixtures", () => {
  for (const [name, title] of Object.entries(FIXTURES)) {
    it(`${title} (${name})`, () => {
      const input = transcript(name);
      expect(toSrt(input)).toBe(fixture(`${name}.srt`));
      expect(toVtt(input)).toBe(fixture(`${name}.vtt`));
    });
  }
});

describe("cue rules", () => {
  const words = (...spec: [string, number, number][]): Word[] =>
    spec.map(([text, start, end]) => ({ text, start, end }));

  it("keeps cues in order and never overlapping when words overlap across a split", () => {
    // "b" runs until 2.0 but "c" starts at 1.8 after a 10-char split: cue 1 is cut at 1.8.
    const cues = buildCues(
      { text: "aaaa bbbb cccc", words: words(["aaaa", 0, 1], ["bbbb", 1, 2], ["cccc", 1.8, 2.5]) },
      { maxChars: 10 },
    );
    expect(cues).toEqual([
      { startMs: 0, endMs: 1800, text: "aaaa bbbb" },
      { startMs: 1800, endMs: 2500, text: "cccc" },
    ]);
  });

  it("skips blank words and collapses whitespace inside a word, never producing an empty cue", () => {
    const input = { text: "a b", words: words(["  ", 0, 0.5], ["new\nline", 1, 1.5], ["", 2, 2.5]) };
    expect(toSrt(input)).toBe("1\n00:00:01,000 --> 00:00:01,500\nnew line\n\n");
    expect(toSrt({ text: "", words: words([" ", 0, 1]) })).toBe("");
  });

  it("closes a cue after a sentence end followed by a closing quote", () => {
    const cues = buildCues({
      text: "",
      words: words(["He", 0, 0.2], ["said", 0.3, 0.5], ["it", 0.6, 0.7], ["twice:", 0.8, 1], ['"Stop!"', 1.1, 1.5], ["Then", 1.6, 1.8]),
    });
    expect(cues.map((c) => c.text)).toEqual(['He said it twice: "Stop!"', "Then"]);
  });

  it("applies custom options", () => {
    const input = transcript("pause");
    // With a 5 s gap allowed, the 3 s pause no longer splits: one 38-char, 6.8 s cue.
    expect(buildCues(input, { maxGapSec: 5 }).map((c) => c.text)).toEqual(["Okay let me think right I remember now"]);
    // A 1 s minimum duration for zero-length cues.
    expect(toSrt({ text: "x", words: words(["x", 2, 2]) }, { minDurationSec: 1 })).toBe("1\n00:00:02,000 --> 00:00:03,000\nx\n\n");
  });
});

describe("timestamps", () => {
  it("formats hours with two digits, more when needed, and carries rounding", () => {
    expect(formatTimestamp(secondsToMs(3725.5), ",")).toBe("01:02:05,500");
    expect(formatTimestamp(secondsToMs(3725.5), ".")).toBe("01:02:05.500");
    expect(formatTimestamp(secondsToMs(0), ",")).toBe("00:00:00,000");
    expect(formatTimestamp(secondsToMs(59.9996), ",")).toBe("00:01:00,000");
    expect(formatTimestamp(secondsToMs(100 * 3600 + 0.001), ",")).toBe("100:00:00,001");
  });
});

describe("errors", () => {
  it("refuses a transcript with text but no words: captions need word timings", () => {
    const input = { text: "Hello world", words: [] };
    expect(() => toSrt(input)).toThrow(CaptionError);
    expect(() => toSrt(input)).toThrow(/captions need word timings.*provider did not return any/i);
    expect(() => toVtt(input)).toThrow(/captions need word timings/i);
    // Whitespace-only text counts as empty.
    expect(toVtt({ text: "  \n", words: [] })).toBe("WEBVTT\n\n");
  });

  it.each<[string, Partial<Word>, RegExp]>([
    ["NaN start", { start: Number.NaN }, /words\[1\] has start = NaN/],
    ["negative end", { end: -0.5 }, /words\[1\] has end = -0.5/],
    ["infinite end", { end: Number.POSITIVE_INFINITY }, /words\[1\] has end = Infinity/],
    ["out of order", { start: 0.1, end: 0.2 }, /words\[1\] starts at 0.1 s, before words\[0\] \(1 s\)/],
  ])("rejects a word with %s with a CaptionError naming its index, not its text", (_, patch, message) => {
    const input = { text: "a secret", words: [{ text: "a", start: 1, end: 1.5 }, { text: "secret", start: 2, end: 2.5, ...patch }] };
    expect(() => toSrt(input)).toThrow(CaptionError);
    expect(() => toVtt(input)).toThrow(message);
    expect(() => toVtt(input)).not.toThrow(/secret/);
  });

  it.each<[CaptionOptions, RegExp]>([
    [{ maxChars: 0 }, /maxChars: must be a positive whole number of characters \(default 42\), got 0$/],
    [{ maxChars: 20.5 }, /maxChars: must be a positive whole number of characters \(default 42\), got 20\.5$/],
    [{ maxDurationSec: -1 }, /maxDurationSec: must be a positive number of seconds \(default 7\), got -1$/],
    [{ maxGapSec: Number.NaN }, /maxGapSec: must be a positive number of seconds \(default 1\.5\), got NaN$/],
    [{ minDurationSec: 0 }, /minDurationSec: must be a positive number of seconds \(default 0\.5\), got 0$/],
    [{ maxDurationSec: "7" as unknown as number }, /maxDurationSec: must be a positive number of seconds \(default 7\), got "7"$/],
    [{ minDurationSec: 3, maxDurationSec: 2 }, /minDurationSec: 3 is longer than maxDurationSec \(2\)/],
  ])("rejects invalid options %o with a ConfigurationError", (options, message) => {
    const input = transcript("two-sentences");
    expect(() => toSrt(input, options)).toThrow(ConfigurationError);
    expect(() => toVtt(input, options)).toThrow(message);
  });

  it("validates options even for an empty transcript", () => {
    expect(() => toSrt({ text: "", words: [] }, { maxChars: -3 })).toThrow(ConfigurationError);
  });
});
