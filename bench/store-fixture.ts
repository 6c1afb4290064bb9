import { readFile } from "node:fs/promises";
import { hashToken, newRef, newToken } from "../src/receiver/webhook-route.js";
import { FileJobStore } from "../src/store/file-job-store.js";
import type { JobStore } from "../src/store/job-store.js";
import type { JobRecord } from "../src/store/records.js";

/** A job waiting for its terminal webhook, with what its webhook URL needs. */
export interface PendingJob {
  ref: string;
  jobId: string;
  token: string;
}

/** Writes in flight at once into a store other than the JSON file. */
const STORE_WRITE_WINDOW = 64;

/**
 * Fills a store with `processed` finished jobs (ballast, as a store that has been in use for a
 * while holds) and `pending` queued jobs, each with its own webhook token, and closes it. Returns
 * the pending jobs.
 *
 * `target` is the path of a `FileJobStore` (its journal folded into the lowdb document on close,
 * so the document alone holds every job), or any closed `JobStore` (e.g. a Postgres one), which is
 * opened, filled and closed here.
 */
export async function buildStore(target: string | JobStore, counts: { processed: number; pending: number }): Promise<PendingJob[]> {
  const store = typeof target === "string" ? new FileJobStore({ path: target }) : target;
  await store.open();
  const now = Date.now();
  const pending: PendingJob[] = [];
  const total = counts.processed + counts.pending;
  // The JSON store takes every write at once and batches them into few journal writes; a
  // database's pool counts time queued for a connection against its connect timeout, so there a
  // window of writes is in flight.
  const window = typeof target === "string" ? Number.POSITIVE_INFINITY : STORE_WRITE_WINDOW;
  const writes: Promise<void>[] = [];
  const inFlight = new Set<Promise<void>>();
  try {
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
      const write = store.createJob(job);
      writes.push(write);
      if (isPending) pending.push({ ref, jobId, token });
      if (window !== Number.POSITIVE_INFINITY) {
        const settled = write.catch(() => undefined).finally(() => inFlight.delete(settled));
        inFlight.add(settled);
        if (inFlight.size >= window) await Promise.race(inFlight);
      }
    }
    await Promise.all(writes);
  } finally {
    // For the JSON file, close() flushes the journal and compacts.
    await Promise.allSettled(writes);
    await store.close();
  }
  return pending;
}

/** How many of `refs` the store document on disk shows as completed and processed. */
export async function countResolvedOnDisk(path: string, refs: readonly string[]): Promise<number> {
  const { jobs } = JSON.parse(await readFile(path, "utf8")) as { jobs: Record<string, Partial<JobRecord>> };
  return refs.filter((ref) => jobs[ref]?.status === "completed" && jobs[ref]?.processed === true).length;
}
