import { Deadline } from "./deadline.js";
import type { Transcript } from "./domain/transcript.js";
import { AbortError } from "./errors/index.js";
import type { JobControl } from "./job.js";
import type { WaiterRegistry } from "./waiter-registry.js";

/** What one handle's run works with: its deadline, and a way to wait for a job's outcome. */
export interface JobScope {
  readonly deadline: Deadline;
  /**
   * Registers a waiter for the job with local ref `ref` and returns its outcome, which also
   * rejects with an `AbortError` as soon as the handle is cancelled. Register before the submit
   * leaves the process: a webhook may beat the submit's answer.
   */
  waitFor(ref: string): Promise<Transcript>;
}

/**
 * Runs one handle's work with a deadline of `timeoutMs` and removes its waiters and its timer
 * however the work ends, so nothing outlives the handle.
 */
export async function withJobScope<T>(
  timeoutMs: number,
  waiters: WaiterRegistry,
  control: JobControl,
  work: (scope: JobScope) => Promise<T>,
): Promise<T> {
  const deadline = new Deadline(timeoutMs);
  const unregister: (() => void)[] = [];
  const waitFor = (ref: string): Promise<Transcript> => {
    const outcome = new Promise<Transcript>((resolve, reject) => {
      unregister.push(
        waiters.add(ref, {
          resolve,
          reject,
          status: (status, jobId) => {
            if (jobId !== undefined) control.setJobId(jobId);
            control.setStatus(status);
          },
        }),
      );
    });
    const raced = Promise.race([outcome, rejectOnAbort(control.signal)]);
    // Awaited only once the submit returns; until then a rejection must not count as unhandled.
    raced.catch(() => undefined);
    return raced;
  };
  try {
    return await work({ deadline, waitFor });
  } finally {
    for (const remove of unregister) remove();
    deadline.clear();
  }
}

/** Ends a run as soon as its handle is cancelled, so no waiter or timer outlives it. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const onAbort = () => reject(new AbortError(undefined, signal.reason));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
