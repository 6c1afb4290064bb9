import { readFile } from "node:fs/promises";
import { hashToken, newRef, newToken } from "../src/receiver/webhook-route.js";
import { FileJobStore } from "../src/store/file-job-store.js";
import type { JobRecord } from "../src/store/records.js";

/** A job waiting for its terminal webhook, with what its webhook URL needs. */
export interface PendingJob {
  ref: string;
  jobId: string;
  token: string;
}

/**
 * Writes a `FileJobStore` at `path` holding `processed` finished jobs (ballast, as a store that has
 * been in use for a while holds) and `pending` queued jobs, each with its own webhook token, and
 * folds it all into the lowdb document. Returns the pending jobs.
 */
export async function buildStore(path: string, counts: { processed: number; pending: number }): Promise<PendingJob[]> {
  const store = new FileJobStore({ path });
  await store.open();
  const now = Date.now();
  const pending: PendingJob[] = [];
  const writes: Promise<void>[] = [];
  const total = counts.processed + counts.pending;
  for (let i = 0; i < total; i++) {
    const ref = newRef();
    const jobId = `job_bench_${i}`;
    const token = newToken();
    const isPending = i >= counts.processed;
    const job: JobRecord = {
      ref,
      provider: "generic",
      jobId,
      status: isPending ? "queued" : "completed",
      tokenHash: hashToken(token),
      createdAt: now,
      updatedAt: now,
      processed: !isPending,
      // Recent, so the client's start-up pruning (retentionMs, 7 days) keeps the ballast.
      ...(isPending ? {} : { finishedAt: now }),
    };
    writes.push(store.createJob(job));
    if (isPending) pending.push({ ref, jobId, token });
  }
  await Promise.all(writes);
  // close() flushes the journal and compacts: the document alone holds every job.
  await store.close();
  return pending;
}

/** How many of `refs` the store document on disk shows as completed and processed. */
export async function countResolvedOnDisk(path: string, refs: readonly string[]): Promise<number> {
  const { jobs } = JSON.parse(await readFile(path, "utf8")) as { jobs: Record<string, Partial<JobRecord>> };
  return refs.filter((ref) => jobs[ref]?.status === "completed" && jobs[ref]?.processed === true).length;
}
