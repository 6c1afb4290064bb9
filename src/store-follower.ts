import { StoreError } from "./errors/index.js";
import type { Logger } from "./shared/logger.js";
import type { JobStore } from "./store/job-store.js";
import { storedOutcome } from "./stored-outcome.js";
import type { WaiterRegistry } from "./waiter-registry.js";

/** How long after the store is reachable again a job that could not be read is read again (the first reads after an outage may still fail). */
const READ_AGAIN_AFTER_MS = 250;

/**
 * Where a waiter is resolved when its job was finished by another instance sharing the store:
 * on the store's word that a job changed (or that changes may have been missed), the jobs this
 * process waits for are read again, and a processed one settles its waiters from the store.
 * Returns the function that stops following.
 */
export function followStoreChanges(store: JobStore, waiters: WaiterRegistry, logger: Logger): () => void {
  let following = true;
  const look = async (ref: string): Promise<void> => {
    const job = await store.job(ref);
    if (!job || !waiters.has(ref)) return;
    if (!job.processed) {
      waiters.status(ref, job.status, job.jobId);
      return;
    }
    let transcript;
    try {
      transcript = await storedOutcome(store, job, job.jobId ?? ref);
    } catch (error) {
      // A failed job rejects its waiters; a store that could not be read is the store's problem.
      if (error instanceof StoreError) throw error;
      waiters.reject(ref, error as Error);
      return;
    }
    waiters.resolve(ref, transcript);
  };
  const lookUntilRead = (ref: string) => {
    look(ref).catch((error: unknown) => {
      // A store that takes writes but cannot read this job (a damaged row, a transcript gone)
      // will not read it next time either: its waiters get the error.
      if (store.healthy()) {
        waiters.reject(ref, error as Error);
        return;
      }
      // Unreachable: the waiter stays, and the job is read again once the store answers.
      logger.warn({ err: (error as Error).message }, "could not read a job another instance changed; will read it again");
      void store.whenHealthy().then(() => {
        setTimeout(() => {
          if (following && waiters.has(ref)) lookUntilRead(ref);
        }, READ_AGAIN_AFTER_MS).unref();
      });
    });
  };
  const unwatch = store.watch((ref) => {
    const refs = ref === undefined ? waiters.refs() : waiters.has(ref) ? [ref] : [];
    for (const each of refs) lookUntilRead(each);
  });
  return () => {
    following = false;
    unwatch();
  };
}
