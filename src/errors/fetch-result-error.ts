import { HookscribeError } from "./hookscribe-error.js";

/**
 * Asking the provider for a job's status or result failed: an HTTP error (`status`), a network
 * error (`status` undefined) or a body that is not the job's result. In the worker and at a
 * deadline each ask is one request (no HTTP-level retries): the worker retries it with backoff,
 * within `retry.attempts`; at a deadline it ends the one status check.
 */
export class FetchResultError extends HookscribeError {
  override readonly name = "FetchResultError";
  /** The provider's job id. */
  readonly jobId: string;
  /** HTTP status of the last answer; `undefined` when none came back. */
  readonly status: number | undefined;

  constructor(jobId: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.jobId = jobId;
    this.status = options.status;
  }
}
