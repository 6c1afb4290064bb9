import type { StoreReader } from "./store/job-store.js";
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

/** Which jobs `client.jobs()` lists, and which page of them. */
export interface JobsFilter {
  /**
   * Only jobs with this status.
   * @default undefined (every status)
   */
  status?: JobStatus;
  /**
   * Most jobs in one page, from 1 to 1000.
   * @default 100
   */
  limit?: number;
  /**
   * Start after this place in the listing: the `next` cursor of the page before. A cursor stays
   * valid while jobs are added or pruned: later pages neither repeat a job nor skip one still
   * stored (jobs created since are newer, so they start the first page).
   * @default undefined (start with the newest job)
   * @example const older = await client.jobs({ before: page.next })
   */
  before?: string;
}

/** One page of jobs, newest first: an array, with the cursor of the page after it. */
export interface JobsPage extends Array<JobSummary> {
  /** Pass it as `before` for the next page; `undefined` on the last page. */
  next: string | undefined;
}

/** A cursor is the last listed job's place in the order: its creation time (base 36) and its ref. */
const CURSOR = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{1,64})$/;

const jobsFilterSchema = z.strictObject({
  status: jobStatusSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  before: z.string().regex(CURSOR, { error: "must be the `next` cursor of an earlier page" }).optional(),
});
true satisfies Same<z.input<typeof jobsFilterSchema>, JobsFilter>;

function cursorOf(job: { createdAt: number; ref: string }): string {
  return `${job.createdAt.toString(36)}.${job.ref}`;
}

function placeOf(cursor: string): { createdAt: number; ref: string } {
  const [, createdAt, ref] = CURSOR.exec(cursor)!;
  return { createdAt: parseInt(createdAt!, 36), ref: ref! };
}

/** One page of jobs, newest first, optionally only one status; a bad or misspelt filter throws a `ConfigurationError`. */
export async function pageOfJobs(store: StoreReader, filter: JobsFilter = {}): Promise<JobsPage> {
  const { status, limit, before } = parseOptions(jobsFilterSchema, filter, "jobs()");
  // One more than the page holds, to learn whether a next page exists.
  const kept = await store.listJobs({ status, limit: limit + 1, after: before === undefined ? undefined : placeOf(before) });
  const more = kept.length > limit;
  if (more) kept.pop();
  return Object.assign(kept.map(toJobSummary), { next: more ? cursorOf(kept[kept.length - 1]!) : undefined });
}
