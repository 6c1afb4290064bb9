import { HookscribeError } from "./hookscribe-error.js";

/**
 * Waiting was cancelled through an `AbortSignal`, `job.cancel()` or `client.close()`. `name` is
 * `"AbortError"`, as for every cancelled operation in Node.js; `cause` is the abort reason.
 */
export class AbortError extends HookscribeError {
  override readonly name = "AbortError";
  /** The provider's job id, when the provider had accepted the job. */
  readonly jobId: string | undefined;

  constructor(jobId: string | undefined, reason?: unknown) {
    const why = reason instanceof Error ? `: ${reason.message}` : "";
    super(
      jobId === undefined
        ? `Transcription aborted before the provider accepted the job${why}`
        : `Stopped waiting for job ${jobId}${why}; the job is kept, client.job("${jobId}") picks it up again`,
      { cause: reason },
    );
    this.jobId = jobId;
  }
}
