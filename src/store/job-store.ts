import type { Transcript } from "../domain/transcript.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "./records.js";

/**
 * Durable state of every job, delivery and dead letter.
 *
 * Reads are synchronous (the state lives in memory) and come in two views:
 * - listings hold what the disk holds: `jobs()`, `deadLetters()`, `deadLetter()`. A change shows
 *   here only once its write succeeded;
 * - lookups of one record also show the writes still in flight: `job()`, `requireJob()`,
 *   `jobByProviderId()`, `delivery()`, `deliveries()`. A check followed by a write in the same
 *   tick sees every earlier write (two deliveries of one job racing cannot both advance it), and
 *   a job id is found as soon as it is known. When a write fails, every write still in flight
 *   fails with it (later ones may build on it) and they all vanish from this view. To show a
 *   user one record as the disk has it, wait for `whenDurable(ref)` (it settles either way) and
 *   read it again.
 *
 * Every write resolves once it is durable and rejects with a `StoreError` when it is not; a
 * rejected write left nothing behind, in memory or on disk.
 *
 * A write that fails because of the disk or the files (full, I/O error, folder removed) makes
 * the store unhealthy before its promise rejects: until a probe write succeeds, `healthy()` is
 * false and every write is refused at once with a `StoreError`. Such a failure is the store's,
 * not the work's: retry it after `whenHealthy()`.
 */
export interface JobStore {
  readonly path: string;
  open(): Promise<void>;
  /** Flushes the journal, folds it into the document and releases the files. */
  close(): Promise<void>;

  /** Open and taking writes. */
  healthy(): boolean;
  /** Resolves once the store takes writes again (at once when it does); never after `close()`. */
  whenHealthy(): Promise<void>;
  /** Deliveries accepted and not processed yet, dead-lettered ones left out, writes in flight included; O(1). */
  unprocessedCount(): number;

  /** The job with local ref `ref`, writes in flight included. */
  job(ref: string): JobRecord | undefined;
  /** The job with local ref `ref` (writes in flight included); a `StoreError` when it is gone (a write must never build on a missing record). */
  requireJob(ref: string): JobRecord;
  /** The job with this provider job id, writes in flight included. */
  jobByProviderId(provider: string, jobId: string): JobRecord | undefined;
  /** Every job, as durable. */
  jobs(): JobRecord[];
  /** A delivery, writes in flight included. */
  delivery(id: string): DeliveryRecord | undefined;
  /** Deliveries not processed yet, oldest first, including dead-lettered ones; writes in flight included. */
  deliveries(): DeliveryRecord[];
  /** A dead letter, as durable. */
  deadLetter(id: string): DeadLetterRecord | undefined;
  /** Every dead letter, oldest first, as durable. */
  deadLetters(): DeadLetterRecord[];

  saveJob(job: JobRecord): Promise<void>;
  /** Records a terminal event together with the job's new status, as one atomic entry. */
  acceptDelivery(job: JobRecord, delivery: DeliveryRecord): Promise<void>;
  /** Keeps the result fetched for a thin delivery, so it is never fetched again. */
  saveDelivery(delivery: DeliveryRecord): Promise<void>;
  /** Marks the job processed and drops its delivery (and its dead letter), atomically. */
  completeDelivery(job: JobRecord, deliveryId: string): Promise<void>;
  saveDeadLetter(deadLetter: DeadLetterRecord): Promise<void>;
  /** Resolves once every change made so far to this job is durable; rejects if one of them failed. */
  whenDurable(ref: string): Promise<void>;

  saveTranscript(ref: string, transcript: Transcript): Promise<void>;
  readTranscript(ref: string): Promise<Transcript | undefined>;

  /** Removes processed jobs (and their transcripts) that finished before `before`; returns how many. */
  prune(before: number): Promise<number>;
  /** Folds the journal into the document now (one coalesced write). */
  compact(): Promise<void>;
}
