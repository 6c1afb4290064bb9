import type { JobStatus } from "./domain/job-status.js";
import type { Transcript } from "./domain/transcript.js";

/** Someone awaiting a job: a `transcribe()` handle or a `client.job(id)` handle. */
export interface Waiter {
  resolve(transcript: Transcript): void;
  reject(error: Error): void;
  status(status: JobStatus, jobId: string | undefined): void;
}

/**
 * Who waits for which job, by local ref. A waiter is registered before the submit leaves the
 * process, so a webhook that beats the submit's answer still finds it.
 */
export class WaiterRegistry {
  private readonly byRef = new Map<string, Set<Waiter>>();

  /** Adds a waiter; the returned function removes it again. */
  add(ref: string, waiter: Waiter): () => void {
    let waiters = this.byRef.get(ref);
    if (!waiters) {
      waiters = new Set();
      this.byRef.set(ref, waiters);
    }
    waiters.add(waiter);
    return () => {
      waiters.delete(waiter);
      if (waiters.size === 0 && this.byRef.get(ref) === waiters) this.byRef.delete(ref);
    };
  }

  /** Refs of the jobs someone waits for. */
  refs(): string[] {
    return [...this.byRef.keys()];
  }

  has(ref: string): boolean {
    return this.byRef.has(ref);
  }

  /** Resolves the job's waiters; each learns the job completed first, whoever found it done (this instance or another). */
  resolve(ref: string, transcript: Transcript): void {
    for (const waiter of this.take(ref)) {
      waiter.status("completed", transcript.jobId);
      waiter.resolve(transcript);
    }
  }

  reject(ref: string, error: Error): void {
    for (const waiter of this.take(ref)) waiter.reject(error);
  }

  status(ref: string, status: JobStatus, jobId: string | undefined): void {
    for (const waiter of this.byRef.get(ref) ?? []) waiter.status(status, jobId);
  }

  private take(ref: string): Waiter[] {
    const waiters = [...(this.byRef.get(ref) ?? [])];
    this.byRef.delete(ref);
    return waiters;
  }
}
