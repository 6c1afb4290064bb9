import { AbortError } from "./errors/index.js";
import { linkSignals } from "./shared/linked-signal.js";
import type { JobStatus } from "./domain/job-status.js";
import type { Transcript } from "./domain/transcript.js";

/** What the code running a job uses to update its handle. */
export interface JobControl {
  /** Aborted when the caller's signal fires or `cancel()` is called. */
  readonly signal: AbortSignal;
  setJobId(jobId: string): void;
  setStatus(status: JobStatus): void;
}

/**
 * The handle `transcribe()` and `client.job(id)` return: a `PromiseLike<Transcript>` that also
 * exposes the job id and status while it runs. A handle nobody awaits never causes an unhandled
 * rejection.
 */
export class TranscriptionJob implements PromiseLike<Transcript> {
  /** Resolves with the provider's job id once it accepted the job. */
  readonly submitted: Promise<string>;
  private readonly result: Promise<Transcript>;
  private readonly abortController = new AbortController();
  private currentJobId: string | undefined;
  private currentStatus: JobStatus;
  private resolveSubmitted!: (jobId: string) => void;

  /** Made by the client (`transcribe()`, `transcribeFile()`, `job()`); not meant to be constructed elsewhere. */
  constructor(
    run: (control: JobControl) => Promise<Transcript>,
    options: {
      /** Any of them aborting ends the handle with an `AbortError`, as `cancel()` does. */
      signals?: readonly (AbortSignal | undefined)[];
      jobId?: string;
      status?: JobStatus;
      onStatus?: (status: JobStatus, jobId: string | undefined) => void;
    },
  ) {
    this.currentJobId = options.jobId;
    this.currentStatus = options.status ?? "submitting";
    let rejectSubmitted!: (error: unknown) => void;
    this.submitted = new Promise<string>((resolve, reject) => {
      this.resolveSubmitted = resolve;
      rejectSubmitted = reject;
    });
    if (options.jobId !== undefined) this.resolveSubmitted(options.jobId);

    const linked = linkSignals(...(options.signals ?? []), this.abortController.signal);
    const { signal } = linked;
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortError(this.currentJobId, signal.reason));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    const control: JobControl = {
      signal,
      setJobId: (jobId) => {
        this.currentJobId = jobId;
        this.resolveSubmitted(jobId);
      },
      setStatus: (status) => {
        if (status === this.currentStatus) return;
        this.currentStatus = status;
        options.onStatus?.(status, this.currentJobId);
      },
    };
    // Starting `run` on a later tick lets the caller read `jobId`/`status` and attach handlers first.
    this.result = Promise.race([aborted, Promise.resolve().then(() => run(control))]);
    this.result.catch(rejectSubmitted);
    this.submitted.catch(() => undefined);
    this.result
      .catch(() => undefined)
      .finally(() => {
        signal.removeEventListener("abort", onAbort);
        linked.unlink();
      });
  }

  /** The provider's job id; `undefined` until the provider accepted the job. */
  get jobId(): string | undefined {
    return this.currentJobId;
  }

  get status(): JobStatus {
    return this.currentStatus;
  }

  /** Stops waiting: the handle rejects with an `AbortError`. The job itself keeps running at the provider. */
  cancel(reason?: unknown): void {
    this.abortController.abort(reason);
  }

  then<TResult1 = Transcript, TResult2 = never>(
    onfulfilled?: ((value: Transcript) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.result.then(onfulfilled, onrejected);
  }

  catch<TResult = never>(onrejected?: ((reason: unknown) => TResult | PromiseLike<TResult>) | null): Promise<Transcript | TResult> {
    return this.result.catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<Transcript> {
    return this.result.finally(onfinally);
  }

  get [Symbol.toStringTag](): string {
    return "TranscriptionJob";
  }
}
