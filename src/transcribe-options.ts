import type { JobStatus } from "./domain/job-status.js";

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
