import { z } from "zod";

/**
 * Where a job is in its life, in the order it moves. `submitting` is local (the provider has not
 * answered yet); `completed` and `error` are terminal: once reached, nothing changes them.
 */
export const JOB_STATUSES = ["submitting", "queued", "processing", "completed", "error"] as const;

/** Where a job is in its life: `submitting < queued < processing < completed | error`. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The statuses a provider can report: every status but the local `submitting`. */
const PROVIDER_JOB_STATUSES = ["queued", "processing", "completed", "error"] as const satisfies readonly JobStatus[];

/** A status a provider can report for a job (everything but our local `submitting`). */
export type ProviderJobStatus = (typeof PROVIDER_JOB_STATUSES)[number];

export const jobStatusSchema = z.enum(JOB_STATUSES);
export const providerJobStatusSchema = z.enum(PROVIDER_JOB_STATUSES);

const RANK: Record<JobStatus, number> = { submitting: 0, queued: 1, processing: 2, completed: 3, error: 3 };

/** Statuses only move forward: `submitting < queued < processing < completed | error`. */
export function isStatusAdvance(from: JobStatus, to: JobStatus): boolean {
  return RANK[to] > RANK[from];
}

export function isTerminal(status: JobStatus): status is "completed" | "error" {
  return RANK[status] === RANK.completed;
}
