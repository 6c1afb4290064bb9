import { randomBytes } from "node:crypto";
import type { SubmitRequestBody } from "../providers/generic-wire.js";
import type { JobRecord } from "./dev-job.js";
import { HttpError } from "./http-io.js";

/** Every job the emulator accepted, by job id and by the submit's `Idempotency-Key`. */
export class JobTable {
  private readonly byId = new Map<string, JobRecord>();
  private readonly byIdempotencyKey = new Map<string, JobRecord>();

  create(request: SubmitRequestBody, idempotencyKey: string | undefined): JobRecord {
    const job: JobRecord = {
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

  get(jobId: string): JobRecord | undefined {
    return this.byId.get(jobId);
  }

  /** The job, or an `HttpError` 404 that the API answers as is. */
  require(jobId: string): JobRecord {
    const job = this.byId.get(jobId);
    if (!job) throw new HttpError(404, `Unknown job ${jobId}`);
    return job;
  }

  /** The job an earlier submit with this key created: a repeat returns it instead of starting another. */
  forIdempotencyKey(key: string): JobRecord | undefined {
    return this.byIdempotencyKey.get(key);
  }

  all(): JobRecord[] {
    return [...this.byId.values()];
  }
}
