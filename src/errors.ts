/** Base class of every error hookscribe throws or rejects with. */
export class HookscribeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The provider refused the submit (or it kept failing after the retries). */
export class SubmitError extends HookscribeError {
  /** HTTP status of the last response; `undefined` when no response came back (network error). */
  readonly status: number | undefined;
  /** The provider's own error text, when it sent one. */
  readonly providerMessage: string | undefined;

  constructor(message: string, options: { status?: number; providerMessage?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.providerMessage = options.providerMessage;
  }
}

/** The provider reported that the job failed. */
export class TranscriptionError extends HookscribeError {
  readonly jobId: string;

  constructor(jobId: string, providerMessage: string | undefined) {
    super(`Provider reported job ${jobId} as failed: ${providerMessage ?? "no reason given"}`);
    this.jobId = jobId;
  }
}

/**
 * The deadline passed and the provider had not finished. The job is kept: a late webhook still
 * resolves `client.job(jobId)`.
 */
export class TranscriptionTimeoutError extends HookscribeError {
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

/** Waiting was cancelled through an `AbortSignal` or `job.cancel()`. `name` is `"AbortError"`. */
export class AbortError extends HookscribeError {
  readonly jobId: string | undefined;

  constructor(jobId: string | undefined, reason?: unknown) {
    const why = reason instanceof Error ? `: ${reason.message}` : "";
    super(
      jobId === undefined
        ? `Transcription aborted before the provider accepted the job${why}`
        : `Stopped waiting for job ${jobId}${why}; the job is kept, client.job("${jobId}") picks it up again`,
      { cause: reason },
    );
    this.name = "AbortError";
    this.jobId = jobId;
  }
}

/** `client.job(id)` was given an id this store does not know. */
export class UnknownJobError extends HookscribeError {
  readonly jobId: string;

  constructor(jobId: string, storePath: string) {
    super(
      `No job ${jobId} in the store ${storePath}: it was submitted with another store or provider, or pruned after retentionMs`,
    );
    this.jobId = jobId;
  }
}

/** The options cannot work as given; the message says what to change. */
export class ConfigurationError extends HookscribeError {}

/** The store file could not be read, parsed or written. Stored data is never overwritten because of it. */
export class StoreError extends HookscribeError {
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${message} (store: ${path})`, options);
    this.path = path;
  }
}
