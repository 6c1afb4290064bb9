import type { JobStatus } from "../domain/job-status.js";
import type { ProviderEvent } from "../domain/provider-event.js";
import type { Transcript } from "../domain/transcript.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "./records.js";

/** What looking at a store needs (the CLI's read commands): no writes, no processing. */
export type StoreReader = Pick<JobStore, "location" | "listJobs" | "jobByProviderId" | "deadLetters" | "readTranscript">;

/**
 * A move of a job's status, as a webhook, a submit's answer or a status check tells it. The store
 * applies it atomically: never backwards, never to a job that follows another provider job id.
 */
export interface StatusChange {
  jobId: string;
  status: JobStatus;
  /** The provider's failure message, for `error`. */
  error?: string;
  /** When it happened (ms since the epoch). */
  at: number;
  /**
   * The terminal event itself: with a terminal status that moves the job and no `transcript`, it
   * is kept as a delivery for the worker.
   */
  event?: ProviderEvent;
  /**
   * The transcript a `completed` event carries. When the change moves the job, it is stored with
   * the job marked processed, all or nothing for the job, and no delivery is made: a full answer
   * needs no processing, and stored at once it saves writing (and later deleting) a delivery. The
   * JSON file store writes it in two steps, the transcript to its log and then the job's journal
   * entry, which points at it and marks the job processed: when that second write fails, or a
   * crash comes before it, the job has not moved and the transcript written is never read.
   * PostgreSQL writes both in the status change's one statement.
   */
  transcript?: Transcript;
}

/**
 * What applying a `StatusChange` did: `advanced` (the status moved forward; `deliveryId` names
 * the delivery a terminal event became, held by this instance; with a `transcript`, the job is
 * stored processed instead), `unchanged` (a repeated or stale status: nothing written), `foreign`
 * (the job follows another provider job id: refused), `missing` (no job with that ref, e.g.
 * pruned). `job` is the job as it is now.
 */
export type StatusChangeResult =
  | { outcome: "advanced"; job: JobRecord; deliveryId?: string }
  | { outcome: "unchanged"; job: JobRecord }
  | { outcome: "foreign"; job: JobRecord }
  | { outcome: "missing" };

/** How the worker finished a delivery. */
export type DeliveryOutcome =
  /** The transcript, stored with the job marked processed. */
  | { kind: "completed"; transcript: Transcript }
  /** The job failed at the provider (its message, when known). */
  | { kind: "error"; error: string | undefined }
  /** The job was processed already (by an earlier run): only the delivery goes. */
  | { kind: "already-processed" };

/** The page of `listJobs`: newest first (by `createdAt`, then `ref`), after a place in that order. */
export interface JobListing {
  status?: JobStatus;
  limit: number;
  /** Only jobs listed after this one (a job may be gone by now). */
  after?: { createdAt: number; ref: string };
}

/**
 * Durable state of every job, delivery and dead letter, shared by everything that runs a
 * `Transcriber` on it: one process for the JSON file, any number of replicas for a database.
 * The receiver, the worker and the waiters only ever talk to this interface.
 *
 * Every write resolves once it is durable and rejects with a `StoreError` when it is not; a
 * rejected write left nothing behind. Reads see every write that resolved, in any instance.
 *
 * A write that fails because of the store itself (disk full, database unreachable) makes the
 * store unhealthy before its promise rejects: until a probe succeeds, `healthy()` is false and
 * writes are refused at once with a `StoreError`. Such a failure is the store's, not the work's:
 * retry it after `whenHealthy()`.
 *
 * Deliveries are processed by one instance at a time: an instance holds the deliveries it
 * accepted, claimed or took over, and a store shared by several instances hands a delivery to
 * another one when its holder stops renewing its hold (it died).
 */
export interface JobStore {
  /** Where the data lives, for messages and logs (never a password). */
  readonly location: string;
  /** Opens (or creates, or migrates) the store. */
  open(): Promise<void>;
  /** Makes everything durable, gives up what this instance holds and releases the store. */
  close(): Promise<void>;

  /** Open and taking writes. */
  healthy(): boolean;
  /** Resolves once the store takes writes again (at once when it does); never after `close()`. */
  whenHealthy(): Promise<void>;
  /** Deliveries accepted and not processed yet, dead letters left out, as last known; O(1). */
  unprocessedCount(): number;

  /** The job with local ref `ref`. */
  job(ref: string): Promise<JobRecord | undefined>;
  /** The job with this provider job id. */
  jobByProviderId(provider: string, jobId: string): Promise<JobRecord | undefined>;
  /** One page of jobs, newest first. */
  listJobs(listing: JobListing): Promise<JobRecord[]>;
  /** Submitted jobs still waiting for their terminal event (`queued` or `processing` with a job id), oldest first. */
  pendingJobs(): Promise<JobRecord[]>;
  /** The job's terminal delivery that is not processed yet, if there is one. */
  pendingDelivery(ref: string): Promise<DeliveryRecord | undefined>;
  /** A dead letter by id (a dead letter has the id of its delivery). */
  deadLetter(id: string): Promise<DeadLetterRecord | undefined>;
  /** Every dead letter, oldest first. */
  deadLetters(): Promise<DeadLetterRecord[]>;
  /** The transcript of a processed job. */
  readTranscript(ref: string): Promise<Transcript | undefined>;

  /** Records a new job (before its submit leaves the process). */
  createJob(job: JobRecord): Promise<void>;
  /** Applies a status change atomically (see `StatusChange`); an `unchanged` answer resolves once the state it repeats is durable. */
  changeStatus(ref: string, change: StatusChange): Promise<StatusChangeResult>;

  /**
   * The delivery, now held by this instance, once it is durable; `undefined` when it is gone
   * (processed) or another live instance holds it.
   */
  claim(deliveryId: string): Promise<DeliveryRecord | undefined>;
  /** Unprocessed deliveries, dead letters left out, that no live instance holds: now held by this one. */
  takeOver(): Promise<DeliveryRecord[]>;
  /** Keeps a thin delivery's final result, so it is never fetched again. */
  keepFetchedResult(deliveryId: string, fetched: ProviderEvent): Promise<void>;
  /**
   * Atomically: stores the transcript or the failure, marks the job processed, drops the delivery
   * and its dead letter. `false` (nothing written) when the delivery is gone or another instance
   * took it over.
   */
  completeDelivery(deliveryId: string, outcome: DeliveryOutcome, at: number): Promise<boolean>;
  saveDeadLetter(deadLetter: DeadLetterRecord): Promise<void>;

  /**
   * Tells `listener` when another instance changed a job, or when any instance (this one too)
   * completed one (its ref), or that changes may have been missed (`undefined`: look again at
   * every job you wait for). Returns the unsubscribe function. A store used by one process at a
   * time never calls it.
   */
  watch(listener: (ref: string | undefined) => void): () => void;

  /**
   * Tells `listener` about each transcript a write of this instance stored with its job marked
   * processed although the write rejected (a database committed it, and the answer was lost with
   * the connection): that write is the one that completed the job, so its announcement is due
   * here, once, whenever the store learns it (a retry of the write finds the job done and
   * announces nothing). Returns the unsubscribe function. A store whose rejected writes leave
   * nothing behind, like the JSON file, has no need of it.
   */
  watchLateCompletions?(listener: (ref: string, transcript: Transcript) => void): () => void;

  /** Removes processed jobs (and their transcripts and deliveries) finished before `before`; returns how many. */
  prune(before: number): Promise<number>;
}
