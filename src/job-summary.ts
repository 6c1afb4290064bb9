import type { JobRecord } from "./store/records.js";
import { z } from "zod";
import { type JobStatus, jobStatusSchema } from "./domain/job-status.js";
import { parseOptions } from "./validation/parse-options.js";
import type { Same } from "./validation/type-equality.js";

/** What the store knows about a job, without its transcript. */
export interface JobSummary {
  /** Provider job id; `undefined` while the submit has not been answered. */
  jobId: string | undefined;
  provider: string;
  status: JobStatus;
  /** The terminal event was handled: transcript stored, or failure recorded. */
  processed: boolean;
  createdAt: Date;
  finishedAt?: Date;
  /** The provider's failure message, for a job in `error`. */
  error?: string;
}

export function toJobSummary(job: JobRecord): JobSummary {
  return {
    jobId: job.jobId,
    provider: job.provider,
    status: job.status,
    processed: job.processed,
    createdAt: new Date(job.createdAt),
    finishedAt: job.finishedAt === undefined ? undefined : new Date(job.finishedAt),
    error: job.error,
  };
}

/** Which jobs `client.jobs()` lists. */
export interface JobsFilter {
  /**
   * Only jobs with this status.
   * @default undefined (every status)
   */
  status?: JobStatus;
}

const jobsFilterSchema = z.strictObject({ status: jobStatusSchema.optional() });
true satisfies Same<z.input<typeof jobsFilterSchema>, JobsFilter>;

/** Newest first, optionally only one status; a bad or misspelt filter throws a `ConfigurationError`. */
export function summarise(jobs: JobRecord[], filter: JobsFilter = {}): JobSummary[] {
  parseOptions(jobsFilterSchema, filter, "jobs()");
  return jobs
    .filter((job) => filter.status === undefined || job.status === filter.status)
    .sort((a, b) => b.createdAt - a.createdAt)
    .map(toJobSummary);
}
