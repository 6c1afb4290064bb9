import { z } from "zod";
import type { JobStatus } from "./domain/job-status.js";
import { MAX_TIMER_MS } from "./options.js";
import { parseOptions } from "./validation/parse-options.js";
import type { Same } from "./validation/type-equality.js";

/** Options of one `client.transcribe()` or `client.transcribeFile()` call. Every field is optional. */
export interface TranscribeOptions {
  /**
   * Language code passed to the provider, e.g. `"en"`.
   * @default undefined (the provider detects the language)
   */
  language?: string;
  /**
   * Free-form data passed to the provider with the job.
   * @default undefined
   */
  metadata?: Record<string, unknown>;
  /**
   * Stop waiting (and cancel a submit in flight) when this signal aborts; the handle rejects with
   * an `AbortError`. The job keeps running at the provider and stays in the store.
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Deadline for this job in ms, measured from the call; `0` waits forever.
   * @default the client's `timeoutMs` (1 hour unless set)
   */
  timeoutMs?: number;
  /**
   * Called on every status change of the job.
   * @default undefined
   */
  onStatus?: (status: JobStatus, jobId: string | undefined) => void;
}

/** Options of `client.job(id)`: what a handle for an existing job can use. */
export type JobOptions = Pick<TranscribeOptions, "signal" | "timeoutMs" | "onStatus">;

const transcribeOptionsSchema = z.strictObject({
  language: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  signal: z.instanceof(AbortSignal).optional(),
  timeoutMs: z.number().int().nonnegative().max(MAX_TIMER_MS).optional(),
  onStatus: z.custom<TranscribeOptions["onStatus"]>((value) => typeof value === "function", "must be a function").optional(),
});
true satisfies Same<z.input<typeof transcribeOptionsSchema>, TranscribeOptions>;

const jobOptionsSchema = transcribeOptionsSchema.pick({ signal: true, timeoutMs: true, onStatus: true });
true satisfies Same<z.input<typeof jobOptionsSchema>, JobOptions>;

/** Checks the options of one `transcribe()` call; a bad or misspelt one throws a `ConfigurationError` naming it. */
export function checkTranscribeOptions(options: TranscribeOptions): TranscribeOptions {
  return parseOptions(transcribeOptionsSchema, options, "transcribe()");
}

/** Checks the options of one `client.job(id)` call, like `checkTranscribeOptions`. */
export function checkJobOptions(options: JobOptions): JobOptions {
  return parseOptions(jobOptionsSchema, options, "job()");
}
