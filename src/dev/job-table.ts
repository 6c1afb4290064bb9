import { randomBytes } from "node:crypto";
import type { SubmitRequestBody } from "../providers/generic-wire.js";
import type { EmulatedJob } from "./dev-job.js";
import { HttpError } from "./http-io.js";

/** Every job the emulator accepted, by job id and by the submit's `Idempotency-Key`. */
export class JobTable {
  private readonly byId = new Map<string, EmulatedJob>();
  private readonly byIdempotencyKey = new Map<string, EmulatedJob>();

  create(request: SubmitRequestBody, idempotencyKey: string | undefined): EmulatedJob {
    const job: EmulatedJob = {
      jobId: `job_${randomBytes(12).toString("hex")}`,
      request,
      status: "queued",
      createdAt: Date.now(),
      deliveries: {},
      deliveryQueue: Promise.resolve(),
    };
    this.byId.set(job.jobId, job);
    if (idempotencyKey !== undefined) this.byIdempotencyKey.set(idempotencyKey, job);
    return job;
  }

  get(jobId: string): EmulatedJob | undefined {
    return this.byId.get(jobId);
  }

  /** The job, or an `HttpError` 404 that the API answers as is. */
  require(jobId: string): EmulatedJob {
    const job = this.byId.get(jobId);
    if (!job) throw new HttpError(404, `Unknown job ${jobId}`);
    return job;
  }

  /** The job an earlier submit with this key created: a repeat returns it instead of starting another. */
  forIdempotencyKey(key: string): EmulatedJob | undefined {
    return this.byIdempotencyKey.get(key);
  }

  all(): EmulatedJob[] {
    return [...this.byId.values()];
  }
}
