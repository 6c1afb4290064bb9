import type { Transcript } from "../domain/transcript.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "./records.js";

/**
 * Durable state of every job, delivery and dead letter. Reads are synchronous (the state lives in
 * memory); every write changes memory at once and resolves when the change is durable, so a
 * check followed by a write in the same tick cannot race another delivery.
 */
export interface JobStore {
  readonly path: string;
  open(): Promise<void>;
  /** Flushes the journal, folds it into the document and releases the files. */
  close(): Promise<void>;

  job(ref: string): JobRecord | undefined;
  /** The job with local ref `ref`; a `StoreError` when it is gone (a write must never build on a missing record). */
  requireJob(ref: string): JobRecord;
  jobByProviderId(provider: string, jobId: string): JobRecord | undefined;
  jobs(): JobRecord[];
  delivery(id: string): DeliveryRecord | undefined;
  /** Deliveries not processed yet, oldest first, including dead-lettered ones. */
  deliveries(): DeliveryRecord[];
  deadLetter(id: string): DeadLetterRecord | undefined;
  deadLetters(): DeadLetterRecord[];

  saveJob(job: JobRecord): Promise<void>;
  /** Records a terminal event together with the job's new status, as one atomic entry. */
  acceptDelivery(job: JobRecord, delivery: DeliveryRecord): Promise<void>;
  /** Keeps the result fetched for a thin delivery, so it is never fetched again. */
  saveDelivery(delivery: DeliveryRecord): Promise<void>;
  /** Marks the job processed and drops its delivery (and its dead letter), atomically. */
  completeDelivery(job: JobRecord, deliveryId: string): Promise<void>;
  saveDeadLetter(deadLetter: DeadLetterRecord): Promise<void>;
  /** Resolves once every change made so far to this job is durable. */
  whenDurable(ref: string): Promise<void>;

  saveTranscript(ref: string, transcript: Transcript): Promise<void>;
  readTranscript(ref: string): Promise<Transcript | undefined>;

  /** Removes processed jobs (and their transcripts) that finished before `before`; returns how many. */
  prune(before: number): Promise<number>;
  /** Folds the journal into the document now (one coalesced write). */
  compact(): Promise<void>;
}
