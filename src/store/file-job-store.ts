import { randomUUID } from "node:crypto";
import { mkdir, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Low } from "lowdb";
import { StoreError } from "../errors/index.js";
import { toStoreError } from "./to-store-error.js";
import { isStatusAdvance, isTerminal } from "../domain/job-status.js";
import type { ProviderEvent } from "../domain/provider-event.js";
import type { Transcript } from "../domain/transcript.js";
import { writeDocument } from "./document-writer.js";
import { DurableDocument } from "./durable-document.js";
import { readStoredTranscript, transcriptDir, transcriptPath } from "./transcript-files.js";
import { TranscriptLog } from "./transcript-log.js";
import type { DeliveryOutcome, JobListing, JobStore, StatusChange, StatusChangeResult } from "./job-store.js";
import { newestJobs } from "./newest-jobs.js";
import { StoreFileAdapter } from "./json-file-adapter.js";
import { type Change, Journal, type JournalEntry, journalDir } from "./journal.js";
import { PendingChanges } from "./pending-changes.js";
import { type DeadLetterRecord, type DeliveryRecord, type JobRecord, type TranscriptLocation, emptyDocument } from "./records.js";

export interface FileJobStoreOptions {
  /** Path of the lowdb JSON document. The journal and transcripts live in `<path>.journal/` and `<path>.transcripts/`. */
  path: string;
  /** fsync every journal write and snapshot, so acked deliveries also survive power loss. Default `false` (survives a process crash). */
  fsync?: boolean;
  /** Fold the journal into the document once no change came for this long, in ms. Default `1000`. */
  compactDelayMs?: number;
  /** Under continuous load, fold it in at least this often, in ms. Default `30000`. */
  compactMaxDelayMs?: number;
  /** While the store cannot write, check this often whether it can again, in ms. Default `500`. */
  probeIntervalMs?: number;
  /** Told about failures of background snapshots (the data stays safe in the journal). */
  onBackgroundError?: (error: Error) => void;
}

/** Bytes the health probe writes: a disk with less than this free is not taking deliveries. */
const PROBE_BYTES = 4096;

/**
 * The lowdb JSON-file store. lowdb rewrites the whole document on every write (about 60 ms at 10k
 * jobs), so deliveries never write it directly: each change is appended to a journal (O(1), group
 * committed) and the document is rewritten atomically once the changes pause for
 * `compactDelayMs`, or every `compactMaxDelayMs` under continuous load. The rewrite serialises
 * the document a slice at a time, so acks never wait for more than a slice of it.
 *
 * The document in memory holds durable changes only; changes on their way to the journal are
 * kept beside it (see `PendingChanges`) and dropped if their write fails. A failed write makes
 * the store refuse writes until a probe write succeeds again (every `probeIntervalMs`); when the
 * journal's files were removed under it, the probe also waits for the store's folder to be back
 * and writes everything durable into it again.
 *
 * One process at a time uses it (the client holds a lock file), so it holds every delivery and
 * never hears of changes made elsewhere. Lookups of one record inside the store see the writes
 * still in flight, so a check and the write it decides run in one tick: two deliveries of one job
 * racing cannot both advance it (a job completing on receipt, whose journal write must wait for
 * its transcript's, is waited for instead). What it answers to callers is durable.
 */
export class FileJobStore implements JobStore {
  readonly path: string;
  private readonly adapter: StoreFileAdapter;
  private durable = new DurableDocument(emptyDocument());
  private readonly journal: Journal;
  private readonly transcripts: TranscriptLog;
  private readonly pending = new PendingChanges();
  private readonly fsync: boolean;
  private readonly compactDelayMs: number;
  private readonly compactMaxDelayMs: number;
  private readonly probeIntervalMs: number;
  /** When the oldest change not yet folded into the document was made. */
  private unfoldedSince: number | undefined;
  private lastChangeAt = 0;
  private readonly onBackgroundError: (error: Error) => void;
  /** Deliveries and dead letters with the pending changes applied. */
  private workingCount = { inbox: 0, deadLetters: 0 };
  private compactTimer: NodeJS.Timeout | undefined;
  private compactions: Promise<void> = Promise.resolve();
  /** Why the store refuses writes, while it does. */
  private outage: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private healthWaiters: (() => void)[] = [];
  private opened = false;
  /** Deliveries handed to this process's worker (accepted, claimed or taken over) since `open()`. */
  private readonly held = new Set<string>();
  /** Jobs completing on receipt, by ref, until the journal write that marks them processed (after their transcript's) is durable. */
  private readonly completing = new Map<string, Promise<JobRecord>>();
  /** Whether `takeOver()` handed out what was left since `open()`. */
  private tookOver = false;

  constructor(options: FileJobStoreOptions) {
    this.path = options.path;
    this.fsync = options.fsync ?? false;
    this.compactDelayMs = options.compactDelayMs ?? 1000;
    this.compactMaxDelayMs = options.compactMaxDelayMs ?? 30_000;
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.adapter = new StoreFileAdapter(this.path, { fsync: this.fsync });
    this.transcripts = new TranscriptLog(transcriptDir(this.path), { fsync: this.fsync });
    this.journal = new Journal(
      journalDir(this.path),
      { fsync: this.fsync },
      {
        written: (entries) => this.applyDurable(entries),
        failed: (error) => this.dropPending(error),
      },
    );
  }

  async open(): Promise<void> {
    if (this.opened) return;
    let entries: JournalEntry[];
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const db = new Low(this.adapter, emptyDocument());
      await db.read();
      this.durable = new DurableDocument(db.data);
      entries = await this.journal.open(this.durable.journalSeq);
      this.applyDurable(entries);
      this.workingCount = this.durableCount();
      await this.transcripts.open();
    } catch (error) {
      throw toStoreError(this.path, "Cannot open the store (is the folder writable, and not a file?)", error);
    }
    this.opened = true;
    // Fold what the journal replayed now, so a long history does not replay on every start.
    if (entries.length > 0 || this.durable.journalSeq === 0) await this.compact();
    this.settleHealthWaiters();
  }

  get location(): string {
    return this.path;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.held.clear();
    this.tookOver = false;
    clearTimeout(this.compactTimer);
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    await this.probing;
    await Promise.allSettled(this.completing.values());
    try {
      await this.journal.close();
      await this.transcripts.close();
      await this.compact();
    } finally {
      this.opened = false;
      clearTimeout(this.probeTimer);
    }
  }

  healthy(): boolean {
    return this.opened && this.outage === undefined;
  }

  whenHealthy(): Promise<void> {
    if (this.healthy()) return Promise.resolve();
    return new Promise((resolve) => this.healthWaiters.push(resolve));
  }

  unprocessedCount(): number {
    return Math.max(0, this.workingCount.inbox - this.workingCount.deadLetters);
  }

  async job(ref: string): Promise<JobRecord | undefined> {
    await this.settled(ref);
    return this.lookupJob(ref);
  }

  async jobByProviderId(provider: string, jobId: string): Promise<JobRecord | undefined> {
    const ref = this.lookupRefByProviderId(provider, jobId);
    if (ref === undefined) return undefined;
    const job = await this.job(ref);
    if (job?.provider === provider && job.jobId === jobId) return job;
    // The write in flight that named this job id failed: look again in what is durable.
    const durableRef = this.durable.refOf(provider, jobId);
    return durableRef === undefined ? undefined : this.durable.get("jobs", durableRef);
  }

  async listJobs(listing: JobListing): Promise<JobRecord[]> {
    return newestJobs([...this.durable.values("jobs")], listing);
  }

  async pendingJobs(): Promise<JobRecord[]> {
    const pending = [...this.durable.values("jobs")].filter((job) => job.jobId !== undefined && (job.status === "queued" || job.status === "processing"));
    return pending.sort((a, b) => a.createdAt - b.createdAt);
  }

  async pendingDelivery(ref: string): Promise<DeliveryRecord | undefined> {
    await this.settled(ref);
    return this.lookupDeliveries().find((delivery) => delivery.ref === ref);
  }

  async deadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.durable.get("deadLetters", id);
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    return [...this.durable.values("deadLetters")].sort((a, b) => a.failedAt - b.failedAt);
  }

  createJob(job: JobRecord): Promise<void> {
    return this.commit([job.ref], [["put", "jobs", job.ref, job]]);
  }

  async changeStatus(ref: string, change: StatusChange): Promise<StatusChangeResult> {
    // A job completing on receipt is written only once its transcript is: until then a check of
    // it cannot see its change, so it waits for it.
    for (let completing = this.completing.get(ref); completing; completing = this.completing.get(ref)) await completing.catch(() => undefined);
    // Checked and written in one tick, against the writes in flight too.
    const job = this.lookupJob(ref);
    if (!job) return { outcome: "missing" };
    if (job.jobId !== undefined && job.jobId !== change.jobId) return { outcome: "foreign", job };
    if (!isStatusAdvance(job.status, change.status)) {
      // What it repeats may still be on its way to the disk: answer once it is there.
      await this.whenDurable(ref);
      return { outcome: "unchanged", job: this.lookupJob(ref) ?? job };
    }
    const updated: JobRecord = { ...job, jobId: change.jobId, status: change.status, updatedAt: change.at };
    if (change.error !== undefined) updated.error = change.error;
    if (!isTerminal(change.status)) {
      await this.commit([ref], [["put", "jobs", ref, updated]]);
      return { outcome: "advanced", job: updated };
    }
    updated.finishedAt = change.at;
    if (change.transcript && change.status === "completed") {
      const completing = this.completeOnReceipt(updated, change.transcript);
      this.completing.set(ref, completing);
      try {
        return { outcome: "advanced", job: await completing };
      } finally {
        if (this.completing.get(ref) === completing) this.completing.delete(ref);
      }
    }
    if (!change.event) {
      await this.commit([ref], [["put", "jobs", ref, updated]]);
      return { outcome: "advanced", job: updated };
    }
    const delivery: DeliveryRecord = { id: randomUUID(), ref, jobId: change.jobId, event: change.event, receivedAt: change.at };
    await this.commit(
      [ref],
      [
        ["put", "jobs", ref, updated],
        ["put", "inbox", delivery.id, delivery],
      ],
    );
    this.held.add(delivery.id);
    return { outcome: "advanced", job: updated, deliveryId: delivery.id };
  }

  /** Stores a completed job with its transcript: the transcript first, then the job that points at it. */
  private async completeOnReceipt(job: JobRecord, transcript: Transcript): Promise<JobRecord> {
    const transcriptAt = await this.writeTranscript(job.ref, transcript);
    const completed: JobRecord = { ...job, processed: true, transcriptAt };
    await this.commit([job.ref], [["put", "jobs", job.ref, completed]]);
    return completed;
  }

  async claim(deliveryId: string): Promise<DeliveryRecord | undefined> {
    const delivery = this.lookupDelivery(deliveryId);
    if (!delivery) return undefined;
    // Only work on what would survive a crash; a failed write makes the caller's attempt fail.
    await this.whenDurable(delivery.ref);
    this.held.add(deliveryId);
    return this.lookupDelivery(deliveryId);
  }

  async takeOver(): Promise<DeliveryRecord[]> {
    // One process uses the store: the first look hands out everything left by an earlier one,
    // and every delivery since is held from its creation on, so later looks find nothing.
    if (this.tookOver) return [];
    this.tookOver = true;
    const dead = new Set([...this.durable.values("deadLetters")].map((letter) => letter.deliveryId));
    const free = this.lookupDeliveries().filter((delivery) => !dead.has(delivery.id) && !this.held.has(delivery.id));
    for (const delivery of free) this.held.add(delivery.id);
    return free;
  }

  async keepFetchedResult(deliveryId: string, fetched: ProviderEvent): Promise<void> {
    const delivery = this.lookupDelivery(deliveryId);
    if (!delivery) return;
    await this.commit([delivery.ref], [["put", "inbox", deliveryId, { ...delivery, fetched }]]);
  }

  async completeDelivery(deliveryId: string, outcome: DeliveryOutcome, at: number): Promise<boolean> {
    const found = this.lookupDelivery(deliveryId);
    if (!found) return false;
    const transcriptAt = outcome.kind === "completed" ? await this.writeTranscript(found.ref, outcome.transcript) : undefined;
    // Looked up after the transcript's write: what is written next builds on the job as it is now.
    const delivery = this.lookupDelivery(deliveryId);
    if (!delivery) return false;
    const changes: Change[] = [["del", "inbox", deliveryId]];
    for (const letterId of this.letterIdsOf(deliveryId)) changes.push(["del", "deadLetters", letterId]);
    const job = this.lookupJob(delivery.ref);
    if (job && outcome.kind === "completed") changes.push(["put", "jobs", job.ref, { ...job, processed: true, updatedAt: at, transcriptAt }]);
    if (job && outcome.kind === "error") {
      // A thin "completed" that turned out failed keeps the time its terminal event came.
      const failed: JobRecord = { ...job, status: "error", processed: true, finishedAt: job.finishedAt ?? at, updatedAt: at };
      if (outcome.error !== undefined) failed.error = outcome.error;
      else delete failed.error;
      changes.push(["put", "jobs", job.ref, failed]);
    }
    await this.commit([delivery.ref], changes);
    this.held.delete(deliveryId);
    return true;
  }

  saveDeadLetter(deadLetter: DeadLetterRecord): Promise<void> {
    return this.commit([deadLetter.ref], [["put", "deadLetters", deadLetter.id, deadLetter]]);
  }

  watch(): () => void {
    return () => undefined;
  }

  /** Resolves once every change made so far to this job is durable; rejects if one of them failed. */
  whenDurable(ref: string): Promise<void> {
    const seq = this.pending.seqOf(ref);
    if (seq === undefined) return Promise.resolve();
    return this.journal.waitFor(seq).catch((error: unknown) => {
      throw toStoreError(this.path, "Cannot append to the store journal", error);
    });
  }

  /** Appends a job's transcript to the transcript log; resolves with where it is once it is on the disk. */
  async writeTranscript(ref: string, transcript: Transcript): Promise<TranscriptLocation> {
    if (!this.opened) throw new StoreError(this.path, "The store is not open (client closed?)");
    if (this.outage !== undefined) throw this.refusal();
    try {
      return await this.transcripts.append(ref, transcript);
    } catch (error) {
      const storeError = toStoreError(this.path, `Cannot write the transcript of job ref ${ref}`, error);
      this.refuseWrites((error as Error).message);
      throw storeError;
    }
  }

  readTranscript(ref: string): Promise<Transcript | undefined> {
    return readStoredTranscript(this.path, ref, this.durable.get("jobs", ref)?.transcriptAt);
  }

  async prune(before: number): Promise<number> {
    const stale = [...this.durable.values("jobs")].filter((job) => isPrunable(job, before));
    if (stale.length === 0) return 0;
    await this.commit(
      stale.map((job) => job.ref),
      stale.map((job): Change => ["del", "jobs", job.ref]),
    );
    for (const job of stale) if (!job.transcriptAt) await unlink(transcriptPath(this.path, job.ref)).catch(() => undefined);
    // Segments only pruned jobs referred to go; jobs whose completion is still on its way to the
    // journal count too (their transcripts are written, their locations not durable yet).
    const referenced = () => {
      const segments = new Set<number>();
      for (const job of this.durable.values("jobs")) if (job.transcriptAt) segments.add(job.transcriptAt.segment);
      for (const [, slot] of this.pending.changes("jobs")) if (slot.value?.transcriptAt) segments.add(slot.value.transcriptAt.segment);
      return segments;
    };
    await this.transcripts.removeUnreferenced(referenced).catch(() => undefined);
    return stale.length;
  }

  compact(): Promise<void> {
    // One snapshot at a time; a caller arriving during one waits for it, then writes its own.
    const run = this.compactions.then(() => this.writeSnapshot());
    this.compactions = run.catch(() => undefined);
    return run;
  }

  /** Writes the document as it is now while changes go on (they are journaled), then deletes the segments it covers. */
  private async writeSnapshot(): Promise<void> {
    clearTimeout(this.compactTimer);
    this.compactTimer = undefined;
    this.unfoldedSince = undefined;
    const covered = this.journal.rotate();
    const snapshot = this.durable.startSnapshot();
    try {
      await writeDocument(this.path, snapshot, { fsync: this.fsync });
    } catch (error) {
      throw toStoreError(this.path, "Cannot write the store file", error);
    } finally {
      snapshot.finish();
    }
    await this.journal.remove(covered);
  }

  /** Waits until what is in flight for `ref` settled, whichever way: a read then shows the disk. */
  private settled(ref: string): Promise<void> {
    return this.whenDurable(ref).catch(() => undefined);
  }

  private lookupJob(ref: string): JobRecord | undefined {
    const slot = this.pending.slot("jobs", ref);
    return slot ? slot.value : this.durable.get("jobs", ref);
  }

  private lookupRefByProviderId(provider: string, jobId: string): string | undefined {
    // A job id learnt by a write in flight (the submit's answer, a first webhook) is found at once.
    for (const [ref, slot] of this.pending.changes("jobs")) if (slot.value?.jobId === jobId && slot.value.provider === provider) return ref;
    return this.durable.refOf(provider, jobId);
  }

  private lookupDelivery(id: string): DeliveryRecord | undefined {
    const slot = this.pending.slot("inbox", id);
    return slot ? slot.value : this.durable.get("inbox", id);
  }

  /** Deliveries not processed yet, oldest first, dead-lettered ones included, writes in flight included. */
  private lookupDeliveries(): DeliveryRecord[] {
    const found: DeliveryRecord[] = [];
    for (const [id, delivery] of this.durable.entries("inbox")) if (!this.pending.slot("inbox", id)) found.push(delivery);
    for (const [, slot] of this.pending.changes("inbox")) if (slot.value) found.push(slot.value);
    return found.sort((a, b) => a.receivedAt - b.receivedAt);
  }

  private commit(refs: string[], changes: Change[]): Promise<void> {
    if (!this.opened) return Promise.reject(new StoreError(this.path, "The store is not open (client closed?)"));
    if (this.outage !== undefined) return Promise.reject(this.refusal());
    const { seq, durable } = this.journal.append(changes);
    for (const change of changes) {
      this.countPending(change);
      this.pending.record(seq, change);
    }
    this.pending.hold(seq, refs);
    this.scheduleCompaction();
    return durable.catch((error: unknown) => {
      throw toStoreError(this.path, "Cannot append to the store journal", error);
    });
  }

  /** Journal entries now durable: the document takes them, in order. */
  private applyDurable(entries: readonly JournalEntry[]): void {
    for (const entry of entries) {
      for (const change of entry.changes) this.durable.apply(change);
      this.durable.journalSeq = entry.seq;
      this.pending.settle(entry.seq, entry.changes);
    }
  }

  private durableCount(): { inbox: number; deadLetters: number } {
    return { inbox: this.durable.size("inbox"), deadLetters: this.durable.size("deadLetters") };
  }

  /** Keeps the counts of deliveries and dead letters as writers see them (pending changes applied). */
  private countPending(change: Change): void {
    const [op, collection, key] = change;
    if (collection === "jobs") return;
    const slot = this.pending.slot(collection, key);
    const had = slot ? slot.value !== undefined : this.durable.get(collection, key) !== undefined;
    this.workingCount[collection] += (op === "put" ? 1 : 0) - (had ? 1 : 0);
  }

  /** A journal write failed: everything pending is gone, and the store refuses writes until a probe succeeds. */
  private dropPending(error: Error): void {
    this.pending.clear();
    this.workingCount = this.durableCount();
    this.refuseWrites(error.message);
  }

  private refuseWrites(cause: string): void {
    if (this.outage !== undefined) return;
    this.outage = cause;
    this.scheduleProbe();
  }

  private refusal(): StoreError {
    return new StoreError(this.path, `The store cannot write at the moment (${this.outage}); it takes writes again as soon as a check every ${this.probeIntervalMs} ms succeeds`);
  }

  private scheduleProbe(): void {
    if (!this.opened || this.probeTimer !== undefined) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      this.probing = this.probe().finally(() => {
        this.probing = undefined;
      });
    }, this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** Can the store write again? Restores its files if they were removed, then writes a little the way deliveries do. */
  private async probe(): Promise<void> {
    if (!this.opened || this.outage === undefined) return;
    try {
      await this.restoreFiles();
      const probeFile = join(transcriptDir(this.path), ".probe");
      try {
        await writeFile(probeFile, Buffer.alloc(PROBE_BYTES), { mode: 0o600 });
      } finally {
        await unlink(probeFile).catch(() => undefined);
      }
      await this.journal.append([]).durable;
    } catch (error) {
      this.outage = (error as Error).message;
      this.scheduleProbe();
      return;
    }
    this.outage = undefined;
    this.settleHealthWaiters();
  }

  /**
   * After the journal's files were removed: once the store's folder is back (it is not recreated
   * here: a folder that went away may be a volume not mounted yet), the store writes everything
   * durable into it again, as a snapshot, and journals into a fresh segment.
   */
  private async restoreFiles(): Promise<void> {
    const folder = dirname(this.path);
    const present = await stat(folder).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (!present) throw new Error(`the store's folder ${folder} is gone; waiting for it to be back`);
    await mkdir(journalDir(this.path), { recursive: true, mode: 0o700 });
    await mkdir(transcriptDir(this.path), { recursive: true, mode: 0o700 });
    if (!this.journal.lost) return;
    await this.compact();
    this.journal.recreated();
  }

  private settleHealthWaiters(): void {
    if (!this.healthy()) return;
    for (const resolve of this.healthWaiters.splice(0)) resolve();
  }

  /** Dead letters of a delivery, durable or pending. */
  private letterIdsOf(deliveryId: string): Set<string> {
    const ids = new Set(this.durable.letterIdsOf(deliveryId));
    for (const [id, slot] of this.pending.changes("deadLetters")) if (slot.value?.deliveryId === deliveryId) ids.add(id);
    return ids;
  }

  private scheduleCompaction(): void {
    const now = Date.now();
    this.unfoldedSince ??= now;
    this.lastChangeAt = now;
    // One timer per pause, not one per change: it re-arms itself for whatever wait is left.
    if (this.compactTimer === undefined) this.armCompaction(Math.min(this.compactDelayMs, this.compactMaxDelayMs));
  }

  private armCompaction(delayMs: number): void {
    this.compactTimer = setTimeout(() => {
      this.compactTimer = undefined;
      const now = Date.now();
      const quietFor = now - this.lastChangeAt;
      const overdue = now - (this.unfoldedSince ?? now) >= this.compactMaxDelayMs;
      if (quietFor < this.compactDelayMs && !overdue) {
        this.armCompaction(Math.min(this.compactDelayMs - quietFor, (this.unfoldedSince ?? now) + this.compactMaxDelayMs - now));
        return;
      }
      this.compact().catch((error: unknown) => {
        // The journal still holds everything; the next compaction or start folds it in.
        this.onBackgroundError(error as Error);
      });
    }, Math.max(0, delayMs));
    this.compactTimer.unref();
  }
}

function isPrunable(job: JobRecord, before: number): boolean {
  if (job.processed) return (job.finishedAt ?? job.updatedAt) < before;
  // A submit whose process died before the provider answered would otherwise stay forever.
  return job.status === "submitting" && job.updatedAt < before;
}
