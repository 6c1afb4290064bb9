import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { StoreError } from "../errors/index.js";
import { syncDirectory } from "./atomic-write.js";
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
type JournalEntry = z.infer<typeof entrySchema>;

interface DurabilityWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

const SEGMENT_FILE = /^journal-(\d{10})\.ndjson$/;
const RETRY_AFTER_FAILURE_MS = 250;

/**
 * Append-only journal: the O(1) durable write behind every acked delivery.
 *
 * Appends made while a write is in flight are grouped into the next single write (group commit),
 * so throughput grows with load instead of paying one syscall (or fsync) per delivery. Each entry
 * carries a sequence number; the store document records up to which number it has folded the
 * journal in, so replay after a crash skips what the document already holds.
 *
 * The journal is split into segments. `rotate()` starts a new one, so that the segments holding
 * everything a snapshot covers can be deleted once that snapshot is on disk.
 */
export class Journal {
  private lastSeq = 0;
  private durableSeq = 0;
  private queue: { seq: number; line: string }[] = [];
  private waiters: DurabilityWaiter[] = [];
  private writing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private handle: FileHandle | undefined;
  private segment: string | undefined;
  private readonly closedSegments = new Set<string>();
  private rotateRequested = false;
  /** Segments are numbered in creation order, so sorting their names replays them in order. */
  private segmentNumber = 0;

  constructor(
    readonly dir: string,
    private readonly options: { fsync: boolean },
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

  /** Sequence number of the newest entry appended so far (durable or not). */
  get headSeq(): number {
    return this.lastSeq;
  }

  /** Queues an entry; resolves once it is in the file (and fsynced if configured). */
  append(changes: Change[]): { seq: number; durable: Promise<void> } {
    const seq = ++this.lastSeq;
    this.queue.push({ seq, line: `${JSON.stringify({ seq, changes })}\n` });
    return { seq, durable: this.waitFor(seq) };
  }

  /** Resolves once every entry up to `seq` is durable; rejects if the write covering it fails. */
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
      if (name === this.segment) continue;
      await unlink(join(this.dir, name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
      this.closedSegments.delete(name);
    }
  }

  /** Waits for everything queued, then closes the file. */
  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    if (this.queue.length > 0) await this.waitFor(this.lastSeq);
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
        const handle = await this.currentHandle();
        await handle.write(batch.map((entry) => entry.line).join(""));
        if (this.options.fsync) await handle.datasync();
      } catch (error) {
        this.failWaiters(error as Error);
        // A failed write may have left a partial line; continue in a fresh segment so it stays a torn tail.
        await this.closeSegment().catch(() => undefined);
        this.writing = false;
        this.retryTimer = setTimeout(() => this.kick(), RETRY_AFTER_FAILURE_MS);
        this.retryTimer.unref();
        return;
      }
      this.queue.splice(0, batch.length);
      this.durableSeq = batch[batch.length - 1]!.seq;
      this.settleWaiters();
    }
    this.writing = false;
  }

  private async currentHandle(): Promise<FileHandle> {
    if (this.rotateRequested) {
      this.rotateRequested = false;
      await this.closeSegment();
    }
    if (!this.handle) {
      const segment = `journal-${String(++this.segmentNumber).padStart(10, "0")}.ndjson`;
      this.handle = await open(join(this.dir, segment), "a", 0o600);
      this.segment = segment;
      // With fsync, the new file's directory entry must be durable too, or power loss could drop it.
      if (this.options.fsync) await syncDirectory(this.dir);
    }
    return this.handle;
  }

  private async closeSegment(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    this.closedSegments.add(this.segment!);
    this.handle = undefined;
    this.segment = undefined;
    await handle.close();
  }

  private settleWaiters(): void {
    const pending: DurabilityWaiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.seq <= this.durableSeq) waiter.resolve();
      else pending.push(waiter);
    }
    this.waiters = pending;
  }

  private failWaiters(error: Error): void {
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
