import { z } from "zod";
import type { Same } from "../validation/type-equality.js";

/** One recognised word. Times are in seconds from the start of the audio. */
export interface Word {
  text: string;
  /** Seconds from the start of the audio. */
  start: number;
  /** Seconds from the start of the audio. */
  end: number;
  /** 0..1, when the provider reports it. */
  confidence?: number;
  /** Speaker label, when the provider diarises. */
  speaker?: string;
}

/** What a provider's finished job yields, before it becomes a `Transcript`. */
export interface TranscriptResult {
  text: string;
  words: Word[];
  /** Language code, when the provider reports it. */
  language?: string;
  /** Length of the audio in seconds, when the provider reports it. */
  durationSec?: number;
}

/** The result a `TranscriptionJob` resolves with, the same for every provider. */
export interface Transcript extends TranscriptResult {
  /** The provider's job id. */
  jobId: string;
  /** The provider's `name`, e.g. `"generic"`. */
  provider: string;
  status: "completed";
  /** The provider's own payload, untouched. */
  raw: unknown;
}

const wordSchema = z.object({
  text: z.string(),
  start: z.number(),
  end: z.number(),
  confidence: z.number().optional(),
  speaker: z.string().optional(),
});
true satisfies Same<z.input<typeof wordSchema>, Word>;

export const transcriptResultSchema = z.object({
  text: z.string(),
  words: z.array(wordSchema),
  language: z.string().optional(),
  durationSec: z.number().optional(),
});
true satisfies Same<z.input<typeof transcriptResultSchema>, TranscriptResult>;

/** A stored transcript, validated when it is read back from disk or a database. */
export const transcriptSchema = transcriptResultSchema.extend({
  jobId: z.string(),
  provider: z.string(),
  status: z.literal("completed"),
  raw: z.unknown(),
});
true satisfies Same<z.input<typeof transcriptSchema>, Transcript>;

/** The `Transcript` of job `jobId` from its provider's result. */
export function toTranscript(jobId: string, provider: string, result: TranscriptResult, raw: unknown): Transcript {
  return { jobId, provider, status: "completed", ...result, raw };
}
