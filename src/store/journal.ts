import type { FileHandle } from "node:fs/promises";
import { mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { StoreError } from "../errors/index.js";
import { type FileIdentity, isStillAtPath, openForAppend } from "./file-identity.js";
import { appendToLog } from "./write-fully.js";
import { type StoreDocument, deadLetterRecordSchema, deliveryRecordSchema, jobRecordSchema } from "./records.js";

const changeSchema = z.union([
  z.tuple([z.literal("put"), z.literal("jobs"), z.string(), jobRecordSchema]),
  z.tuple([z.literal("put"), z.literal("inbox"), z.string(), deliveryRecordSchema]),
  z.tuple([z.literal("put"), z.literal("deadLetters"), z.string(), deadLetterRecordSchema]),
  z.tuple([z.literal("del"), z.enum(["jobs", "inbox", "deadLetters"]), z.string()]),
]);

/** One change to the store document. Re-applying it gives the same state, so replay is safe. */
export type Change = z.infer<typeof changeSchema>;

/** Where the journal of the store document at `storePath` lives. */
export function journalDir(storePath: string): string {
  return `${storePath}.journal`;
}

/** Applies one journal change to a store document. */
export function applyChange(doc: StoreDocument, change: Change): void {
  if (change[0] === "del") {
    delete doc[change[1]][change[2]];
    return;
  }
  switch (change[1]) {
    case "jobs":
      doc.jobs[change[2]] = change[3];
      break;
    case "inbox":
      doc.inbox[change[2]] = change[3];
      break;
    case "deadLetters":
      doc.deadLetters[change[2]] = change[3];
      break;
  }
}

const entrySchema = z.object({ seq: z.number().int().positive(), changes: z.array(changeSchema) });
export type JournalEntry = z.infer<typeof entrySchema>;

/** What the journal tells its owner, synchronously, before the promises of the entries concerned settle. */
export interface JournalEvents {
  /** These entries, in order, are in the file (and fsynced if configured). */
  written(entries: readonly JournalEntry[]): void;
  /** A write failed: every entry not written yet was dropped, and its promise rejects with `error`. */
  failed(error: Error): void;
}

interface DurabilityWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The segment appends go to, with its identity on disk and how much of it holds whole entries. */
interface OpenSegment extends FileIdentity {
  name: string;
  handle: FileHandle;
  size: number;
}

const SEGMENT_FILE = /^journal-(\d{10})\.ndjson$/;

function segmentName(number: number): string {
  return `journal-${String(number).padStart(10, "0")}.ndjson`;
}

/**
 * Append-only journal: the O(1) durable write behind every acked delivery.
 *
 * Appends made while a write is in flight are grouped into the next single write (group commit),
 * so throughput grows with load instead of paying one syscall (or fsync) per delivery. Each entry
 * carries a sequence number; the store document records up to which number it has folded the
 * journal in, so replay after a crash skips what the document already holds.
 *
 * A write counts only once every byte of it is in the file and the file is still the one at
 * its path. A write that fails (a full disk takes part of it, an I/O error, the folder removed)
 * is taken back out of the file and every entry not written yet is dropped: the callers are told,
 * nothing of it is replayed later, and the next write follows the last whole entry.
 *
 * The journal is split into segments. `rotate()` starts a new one, so that the segments holding
 * everything a snapshot covers can be deleted once that snapshot is on disk.
 */
export class Journal {
  private lastSeq = 0;
  private durableSeq = 0;
  private queue: { entry: JournalEntry; line: string }[] = [];
  private waiters: DurabilityWaiter[] = [];
  private writing = false;
  private segment: OpenSegment | undefined;
  private readonly closedSegments = new Set<string>();
  private rotateRequested = false;
  /** Segments are numbered in creation order, so sorting their names replays them in order. */
  private segmentNumber = 0;
  private filesLost = false;

  constructor(
    readonly dir: string,
    private readonly options: { fsync: boolean },
    private readonly events: JournalEvents,
  ) {}

  /** Reads every segment and returns the entries after `afterSeq`, in order. */
  async open(afterSeq: number): Promise<JournalEntry[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const { entries, segments } = await readJournal(this.dir, afterSeq);
    for (const name of segments) this.closedSegments.add(name);
    const last = segments.at(-1);
    this.segmentNumber = last === undefined ? 0 : Number(SEGMENT_FILE.exec(last)![1]);
    this.lastSeq = entries.at(-1)?.seq ?? afterSeq;
    this.durableSeq = this.lastSeq;
    return entries;
  }

  /**
   * The journal's file vanished or was replaced under it (its folder removed or moved): what was
   * written since the last snapshot is no longer on disk. Appends fail until `recreated()`.
   */
  get lost(): boolean {
    return this.filesLost;
  }

  /** The journal's folder exists again: the next write starts a fresh segment in it. */
  recreated(): void {
    this.filesLost = false;
  }

  /** Queues an entry; resolves once it is in the file (and fsynced if configured). */
  append(changes: Change[]): { seq: number; durable: Promise<void> } {
    const seq = ++this.lastSeq;
    const entry = { seq, changes };
    this.queue.push({ entry, line: `${JSON.stringify(entry)}\n` });
    return { seq, durable: this.waitFor(seq) };
  }

  /**
   * Resolves once every entry up to `seq` is durable; rejects if the write covering it fails.
   * `seq` must be one still queued or written (an entry dropped by a failed write is not).
   */
  waitFor(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.kick();
    });
  }

  /**
   * Later appends go to a new segment. Returns the segments that hold nothing newer than the
   * current head, to delete once a snapshot up to `headSeq` is safely written.
   */
  rotate(): string[] {
    if (this.writing) {
      // The segment is being written to; it closes before the next batch and goes with a later snapshot.
      this.rotateRequested = true;
    } else {
      // Idle: close it now (the handle is detached synchronously), so this snapshot can delete it.
      this.closeSegment().catch(() => undefined);
    }
    return [...this.closedSegments];
  }

  async remove(segments: string[]): Promise<void> {
    for (const name of segments) {
      if (name === this.segment?.name) continue;
      await unlink(join(this.dir, name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
      this.closedSegments.delete(name);
    }
  }

  /** Waits for everything queued, then closes the file. */
  async close(): Promise<void> {
    // A failed last write was reported to its callers; closing goes on.
    if (this.queue.length > 0) await this.waitFor(this.lastSeq).catch(() => undefined);
    await this.closeSegment();
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    // Let the current tick's appends join this write.
    setImmediate(() => void this.writeLoop());
  }

  private async writeLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice();
      try {
        await this.writeBatch(Buffer.from(batch.map((queued) => queued.line).join("")));
      } catch (error) {
        this.writing = false;
        this.fail(error as Error);
        return;
      }
      this.queue.splice(0, batch.length);
      this.durableSeq = batch.at(-1)!.entry.seq;
      this.events.written(batch.map((queued) => queued.entry));
      this.settleWaiters();
    }
    this.writing = false;
  }

  private async writeBatch(data: Buffer): Promise<void> {
    if (this.filesLost) throw new Error("the journal's folder was removed or replaced; waiting for it to be back");
    const segment = await this.currentSegment();
    const start = segment.size;
    try {
      await appendToLog(segment.handle, data, this.options);
      // Written into a file nobody can find any more is not written: check before anything is acked.
      this.checkIdentity(segment);
    } catch (error) {
      await this.takeBack(segment, start);
      throw error;
    }
    segment.size = start + data.length;
  }

  private async currentSegment(): Promise<OpenSegment> {
    if (this.rotateRequested) {
      this.rotateRequested = false;
      await this.closeSegment();
    }
    if (this.segment) return this.segment;
    const name = segmentName(++this.segmentNumber);
    try {
      this.segment = { name, ...(await openForAppend(this.dir, name, this.options)), size: 0 };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") this.filesLost = true;
      throw error;
    }
    return this.segment;
  }

  private checkIdentity(segment: OpenSegment): void {
    if (isStillAtPath(join(this.dir, segment.name), segment)) return;
    this.filesLost = true;
    throw new Error(`the journal file ${segment.name} was removed or replaced (the store's folder deleted or moved?)`);
  }

  /**
   * Cuts a failed write back off its segment, so the next write follows the last whole entry
   * (the segment is reused: a disk that stays full does not leave a file per attempt). When that
   * fails too, the segment is never written again: its torn tail stays its last line, which
   * replay ignores; a segment that held nothing else is removed.
   */
  private async takeBack(segment: OpenSegment, start: number): Promise<void> {
    if (!this.filesLost) {
      try {
        await segment.handle.truncate(start);
        if (this.options.fsync) await segment.handle.datasync();
        return;
      } catch {
        // Given up on below.
      }
    }
    this.segment = undefined;
    await segment.handle.close().catch(() => undefined);
    // A file no longer at its path is not ours to list or delete.
    if (this.filesLost) return;
    if (start === 0) await unlink(join(this.dir, segment.name)).catch(() => undefined);
    else this.closedSegments.add(segment.name);
  }

  private async closeSegment(): Promise<void> {
    const segment = this.segment;
    if (!segment) return;
    this.closedSegments.add(segment.name);
    this.segment = undefined;
    await segment.handle.close();
  }

  private settleWaiters(): void {
    const pending: DurabilityWaiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.seq <= this.durableSeq) waiter.resolve();
      else pending.push(waiter);
    }
    this.waiters = pending;
  }

  /** Drops every entry not written yet: later entries may build on the failed ones. */
  private fail(error: Error): void {
    this.queue = [];
    this.events.failed(error);
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}

/**
 * Reads a journal directory without changing it: the entries after `afterSeq` in order (a retried
 * write may have left an entry twice, in two segments), and the segment names. A missing
 * directory is an empty journal.
 */
export async function readJournal(dir: string, afterSeq: number): Promise<{ entries: JournalEntry[]; segments: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], segments: [] };
    throw error;
  }
  const segments = names.filter((name) => SEGMENT_FILE.test(name)).sort();
  const entries: JournalEntry[] = [];
  let lastSeq = afterSeq;
  for (const name of segments) {
    for (const entry of await readSegment(join(dir, name))) {
      if (entry.seq > lastSeq) {
        entries.push(entry);
        lastSeq = entry.seq;
      }
    }
  }
  return { entries, segments };
}

async function readSegment(path: string): Promise<JournalEntry[]> {
  const lines = (await readFile(path, "utf8")).split("\n");
  const lastLine = lines.findLastIndex((line) => line !== "");
  const entries: JournalEntry[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === "") continue;
    const entry = parseLine(line);
    if (entry) {
      entries.push(entry);
    } else if (index !== lastLine) {
      // Only the tail of a segment can be torn (a crash mid-write); anything else is damage.
      throw new StoreError(path, `Journal line ${index + 1} is damaged; hookscribe will not guess what it held`);
    }
    // A torn tail was never acknowledged (acks wait for the whole write), so dropping it loses nothing.
  }
  return entries;
}

function parseLine(line: string): JournalEntry | undefined {
  try {
    const parsed = entrySchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
