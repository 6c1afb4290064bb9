import { mkdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Low } from "lowdb";
import { StoreError } from "../errors/index.js";
import { toStoreError } from "./to-store-error.js";
import type { Transcript } from "../domain/transcript.js";
import { writeFileAtomic } from "./atomic-write.js";
import { readTranscriptFile, transcriptDir, transcriptPath } from "./transcript-files.js";
import type { JobStore } from "./job-store.js";
import { StoreFileAdapter } from "./json-file-adapter.js";
import { type Change, Journal, applyChange, journalDir } from "./journal.js";
import {
  type DeadLetterRecord,
  type DeliveryRecord,
  type JobRecord,
  type StoreDocument,
  emptyDocument,
} from "./records.js";

export interface FileJobStoreOptions {
  /** Path of the lowdb JSON document. The journal and transcripts live in `<path>.journal/` and `<path>.transcripts/`. */
  path: string;
  /** fsync every journal write and snapshot, so acked deliveries also survive power loss. Default `false` (survives a process crash). */
  fsync?: boolean;
  /** Fold the journal into the document once no change came for this long, in ms. Default `1000`. */
  compactDelayMs?: number;
  /** Under continuous load, fold it in at least this often, in ms. Default `30000`. */
  compactMaxDelayMs?: number;
  /** Told about failures of background snapshots (the data stays safe in the journal). */
  onBackgroundError?: (error: Error) => void;
}

/**
 * The lowdb JSON-file store. lowdb rewrites the whole document on every write (about 60 ms at 10k
 * jobs), so deliveries never write it directly: each change is appended to a journal (O(1), group
 * committed) and the document is rewritten atomically once the changes pause for
 * `compactDelayMs`, or every `compactMaxDelayMs` under continuous load: a rewrite blocks the
 * event loop for tens of ms at 10k jobs, which would otherwise land on the acks of a burst.
 */
export class FileJobStore implements JobStore {
  readonly path: string;
  private readonly db: Low<StoreDocument>;
  private readonly journal: Journal;
  private readonly fsync: boolean;
  private readonly compactDelayMs: number;
  private readonly compactMaxDelayMs: number;
  /** When the oldest change not yet folded into the document was made. */
  private unfoldedSince: number | undefined;
  private lastChangeAt = 0;
  private readonly onBackgroundError: (error: Error) => void;
  private readonly lastSeqOfRef = new Map<string, number>();
  private readonly refByJobId = new Map<string, string>();
  private compactTimer: NodeJS.Timeout | undefined;
  private compactions: Promise<void> = Promise.resolve();
  private opened = false;

  constructor(options: FileJobStoreOptions) {
    this.path = options.path;
    this.fsync = options.fsync ?? false;
    this.compactDelayMs = options.compactDelayMs ?? 1000;
    this.compactMaxDelayMs = options.compactMaxDelayMs ?? 30_000;
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.db = new Low(new StoreFileAdapter(this.path, { fsync: this.fsync }), emptyDocument());
    this.journal = new Journal(journalDir(this.path), { fsync: this.fsync });
  }

  private get doc(): StoreDocument {
    return this.db.data;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    let entries: Awaited<ReturnType<Journal["open"]>>;
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      await this.db.read();
      for (const job of Object.values(this.doc.jobs)) this.indexJob(job);
      entries = await this.journal.open(this.doc.journalSeq);
      for (const entry of entries) this.applyChanges(entry.changes);
      await mkdir(transcriptDir(this.path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw toStoreError(this.path, "Cannot open the store (is the folder writable, and not a file?)", error);
    }
    this.opened = true;
    // Fold what the journal replayed now, so a long history does not replay on every start.
    if (entries.length > 0 || this.doc.journalSeq === 0) await this.compact();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    clearTimeout(this.compactTimer);
    await this.journal.close();
    await this.compact();
    this.opened = false;
  }

  job(ref: string): JobRecord | undefined {
    return this.doc.jobs[ref];
  }

  requireJob(ref: string): JobRecord {
    const job = this.doc.jobs[ref];
    if (!job) throw new StoreError(this.path, `Job ref ${ref} is no longer in the store (pruned, or the store was replaced while running)`);
    return job;
  }

  jobByProviderId(provider: string, jobId: string): JobRecord | undefined {
    const ref = this.refByJobId.get(`${provider}\u0000${jobId}`);
    return ref === undefined ? undefined : this.doc.jobs[ref];
  }

  jobs(): JobRecord[] {
    return Object.values(this.doc.jobs);
  }

  delivery(id: string): DeliveryRecord | undefined {
    return this.doc.inbox[id];
  }

  deliveries(): DeliveryRecord[] {
    return Object.values(this.doc.inbox).sort((a, b) => a.receivedAt - b.receivedAt);
  }

  deadLetter(id: string): DeadLetterRecord | undefined {
    return this.doc.deadLetters[id];
  }

  deadLetters(): DeadLetterRecord[] {
    return Object.values(this.doc.deadLetters).sort((a, b) => a.failedAt - b.failedAt);
  }

  saveJob(job: JobRecord): Promise<void> {
    return this.commit([job.ref], [["put", "jobs", job.ref, job]]);
  }

  acceptDelivery(job: JobRecord, delivery: DeliveryRecord): Promise<void> {
    return this.commit(
      [job.ref],
      [
        ["put", "jobs", job.ref, job],
        ["put", "inbox", delivery.id, delivery],
      ],
    );
  }

  saveDelivery(delivery: DeliveryRecord): Promise<void> {
    return this.commit([delivery.ref], [["put", "inbox", delivery.id, delivery]]);
  }

  completeDelivery(job: JobRecord, deliveryId: string): Promise<void> {
    const changes: Change[] = [
      ["put", "jobs", job.ref, job],
      ["del", "inbox", deliveryId],
    ];
    for (const letter of Object.values(this.doc.deadLetters)) {
      if (letter.deliveryId === deliveryId) changes.push(["del", "deadLetters", letter.id]);
    }
    return this.commit([job.ref], changes);
  }

  saveDeadLetter(deadLetter: DeadLetterRecord): Promise<void> {
    return this.commit([deadLetter.ref], [["put", "deadLetters", deadLetter.id, deadLetter]]);
  }

  whenDurable(ref: string): Promise<void> {
    const seq = this.lastSeqOfRef.get(ref);
    return seq === undefined ? Promise.resolve() : this.journal.waitFor(seq);
  }

  async saveTranscript(ref: string, transcript: Transcript): Promise<void> {
    try {
      await writeFileAtomic(transcriptPath(this.path, ref), JSON.stringify(transcript), { fsync: this.fsync });
    } catch (error) {
      throw toStoreError(this.path, `Cannot write the transcript of job ref ${ref}`, error);
    }
  }

  readTranscript(ref: string): Promise<Transcript | undefined> {
    return readTranscriptFile(this.path, ref);
  }

  async prune(before: number): Promise<number> {
    const stale = this.jobs().filter((job) => isPrunable(job, before));
    if (stale.length === 0) return 0;
    await this.commit(
      stale.map((job) => job.ref),
      stale.map((job): Change => ["del", "jobs", job.ref]),
    );
    for (const job of stale) await unlink(transcriptPath(this.path, job.ref)).catch(() => undefined);
    return stale.length;
  }

  compact(): Promise<void> {
    // One snapshot at a time; a caller arriving during one waits for it, then writes its own.
    const run = this.compactions.then(() => this.writeSnapshot());
    this.compactions = run.catch(() => undefined);
    return run;
  }

  private async writeSnapshot(): Promise<void> {
    clearTimeout(this.compactTimer);
    this.compactTimer = undefined;
    this.unfoldedSince = undefined;
    // The document in memory already holds every change up to the journal's head, durable or not.
    this.doc.journalSeq = this.journal.headSeq;
    const covered = this.journal.rotate();
    try {
      await this.db.write();
    } catch (error) {
      throw new StoreError(this.path, `Cannot write the store file: ${(error as Error).message}`, { cause: error });
    }
    await this.journal.remove(covered);
  }

  private commit(refs: string[], changes: Change[]): Promise<void> {
    if (!this.opened) return Promise.reject(new StoreError(this.path, "The store is not open (client closed?)"));
    this.applyChanges(changes);
    const { seq, durable } = this.journal.append(changes);
    for (const ref of refs) this.lastSeqOfRef.set(ref, seq);
    this.scheduleCompaction();
    return durable.catch((error: unknown) => {
      throw error instanceof StoreError
        ? error
        : new StoreError(this.path, `Cannot append to the store journal: ${(error as Error).message}`, { cause: error });
    });
  }

  private applyChanges(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change[1] === "jobs") {
        if (change[0] === "put") this.indexJob(change[3]);
        else this.unindexJob(change[2]);
      }
      applyChange(this.doc, change);
    }
  }

  private indexJob(job: JobRecord): void {
    if (job.jobId !== undefined) this.refByJobId.set(`${job.provider}\u0000${job.jobId}`, job.ref);
  }

  private unindexJob(ref: string): void {
    const job = this.doc.jobs[ref];
    if (job?.jobId !== undefined) this.refByJobId.delete(`${job.provider}\u0000${job.jobId}`);
    this.lastSeqOfRef.delete(ref);
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
