import type { JobListing } from "./job-store.js";
import type { JobRecord } from "./records.js";

/** Where a job sits in a listing: newest first, ties broken by ref, so every job has one place. */
interface Place {
  createdAt: number;
  ref: string;
}

/** Whether `a` is listed before `b`. */
export function listedBefore(a: Place, b: Place): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt > b.createdAt : a.ref > b.ref;
}

/**
 * The page `listing` asks for, from jobs held in memory. One pass that keeps the `limit` newest
 * candidates and sorts only those: a page costs O(jobs) however many there are, never a sort of
 * them all.
 */
export function newestJobs(jobs: readonly JobRecord[], { status, limit, after }: JobListing): JobRecord[] {
  const kept: JobRecord[] = [];
  // Jobs are mostly held in the order they were created: from the end, most candidates are older
  // than every one kept and cost one comparison.
  for (let index = jobs.length - 1; index >= 0; index--) {
    const job = jobs[index]!;
    if (status !== undefined && job.status !== status) continue;
    if (after !== undefined && !listedBefore(after, job)) continue;
    if (kept.length >= limit && !listedBefore(job, kept[kept.length - 1]!)) continue;
    kept.splice(insertionIndex(kept, job), 0, job);
    if (kept.length > limit) kept.pop();
  }
  return kept;
}

/** Where `job` goes in `kept` (sorted, newest first), by binary search. */
function insertionIndex(kept: JobRecord[], job: JobRecord): number {
  let low = 0;
  let high = kept.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (listedBefore(kept[middle]!, job)) low = middle + 1;
    else high = middle;
  }
  return low;
}
