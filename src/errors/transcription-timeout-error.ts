import { HookscribeError } from "./hookscribe-error.js";

/**
 * The deadline passed and the provider had not finished. The job is kept: a late webhook still
 * resolves `client.job(jobId)`.
 */
export class TranscriptionTimeoutError extends HookscribeError {
  override readonly name = "TranscriptionTimeoutError";
  /** Provider job id; `undefined` only when the deadline passed before the provider accepted the job. */
  readonly jobId: string | undefined;

  constructor(jobId: string | undefined, timeoutMs: number, detail: string) {
    super(
      jobId === undefined
        ? `Timed out after ${timeoutMs} ms before the provider accepted the job (${detail})`
        : `Job ${jobId} not finished after ${timeoutMs} ms (${detail}); it is kept, pick it up later with client.job("${jobId}")`,
    );
    this.jobId = jobId;
  }
}
