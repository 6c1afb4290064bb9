import { JOB_STATUSES, type JobStatus, isStatusAdvance } from "../../domain/job-status.js";

/**
 * A status's place in the order statuses move in (`submitting` 0 … `completed` and `error` 3).
 * Stored beside the status, so that one `UPDATE … WHERE status_rank < $rank` moves a job forward
 * and never backwards; derived from `isStatusAdvance`, so the two never disagree.
 */
export function statusRank(status: JobStatus): number {
  return JOB_STATUSES.filter((other) => isStatusAdvance(other, status)).length;
}
