import type { EmulatedJob } from "./dev-job.js";
import type { JobSubmission } from "./dev-job.js";
import { HttpError } from "./http-io.js";

/** Every job the emulator accepted, by job id and by the submit's `Idempotency-Key`. */
export class JobTable<R> {
  private readonly byId = new Map<string, EmulatedJob<R>>();
  private readonly byIdempotencyKey = new Map<string, EmulatedJob<R>>();

  /** A new job with an id `newId()` makes (each provider's ids look different). */
  create(submission: JobSubmission<R>, idempotencyKey: string | undefined, newId: () => string): EmulatedJob<R> {
    const job: EmulatedJob<R> = {
      jobId: newId(),
      submission,
      status: "queued",
      createdAt: Date.now(),
      deliveries: {},
      deliveryQueue: Promise.resolve(),
    };
    this.byId.set(job.jobId, job);
    if (idempotencyKey !== undefined) this.byIdempotencyKey.set(idempotencyKey, job);
    return job;
  }

  get(jobId: string): EmulatedJob<R> | undefined {
    return this.byId.get(jobId);
  }

  /** The job, or an `HttpError` 404 that the API answers as is. */
  require(jobId: string): EmulatedJob<R> {
    const job = this.byId.get(jobId);
    if (!job) throw new HttpError(404, `Unknown job ${jobId}`);
    return job;
  }

  /** The job an earlier submit with this key created: a repeat returns it instead of starting another. */
  forIdempotencyKey(key: string): EmulatedJob<R> | undefined {
    return this.byIdempotencyKey.get(key);
  }

  all(): EmulatedJob<R>[] {
    return [...this.byId.values()];
  }
}
