import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "../errors/index.js";
import { type Transcript, transcriptSchema } from "../domain/transcript.js";
import { describeIssues } from "../validation/describe-issues.js";
import type { TranscriptLocation } from "./records.js";
import { type FileIdentity, isStillAtPath, openForAppend } from "./file-identity.js";
import { appendToLog } from "./write-fully.js";

const SEGMENT_FILE = /^transcripts-(\d{10})\.ndjson$/;

function segmentName(number: number): string {
  return `transcripts-${String(number).padStart(10, "0")}.ndjson`;
}

/** A segment grows to about this size before appends move to a new one, so pruning can free space. */
const SEGMENT_BYTES = 64 * 1024 * 1024;

interface OpenSegment extends FileIdentity {
  number: number;
  handle: FileHandle;
  size: number;
  /** Past `SEGMENT_BYTES`: the next write goes to a new segment. */
  full: boolean;
}

interface Queued {
  line: Buffer;
  resolve: (location: TranscriptLocation) => void;
  reject: (error: Error) => void;
}

/**
 * Transcripts of processed jobs, appended to segment files: the transcripts stored at one moment
 * go to the disk in one write, where a file per transcript cost four trips through libuv's thread
 * pool each (open, write, close, rename), which the journal writes behind every ack queued behind.
 *
 * A transcript counts as stored once every byte of its write is in the file (fsynced with
 * `fsync`) and the file is still the one at its path; only then does the store journal the job as
 * processed, with the transcript's location. A failed write is not cut back: its segment is left
 * and the next write starts a new one, so every location handed out stays valid. A segment goes
 * once no job refers to it any more (`removeUnreferenced`).
 */
export class TranscriptLog {
  private queue: Queued[] = [];
  /** The write loop while it runs. */
  private writing: Promise<void> | undefined;
  private segment: OpenSegment | undefined;
  private lastNumber = 0;

  constructor(
    readonly dir: string,
    private readonly options: { fsync: boolean },
  ) {}

  /** Finds the segments there are; appends go to a new one (an old one may end in a torn line). */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.lastNumber = Math.max(0, ...(await segmentNumbers(this.dir)));
  }

  async close(): Promise<void> {
    await this.writing;
    await this.closeSegment();
  }

  /** Stores the transcript of job `ref`; resolves with where it is once it is on the disk. */
  append(ref: string, transcript: Transcript): Promise<TranscriptLocation> {
    const line = Buffer.from(`${JSON.stringify({ ref, transcript })}\n`);
    return new Promise((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      // Let the current tick's appends join this write.
      this.writing ??= new Promise<void>((started) => setImmediate(started)).then(() => this.writeLoop());
    });
  }

  /**
   * Deletes the segments no job refers to (`referenced()`), except the one appends go to (it
   * holds transcripts whose jobs may not be journaled yet); returns how many. `referenced()` is
   * asked once the folder is listed, in the same tick as the current segment is, so a segment
   * closed meanwhile is counted with the jobs that refer to it by then.
   */
  async removeUnreferenced(referenced: () => ReadonlySet<number>): Promise<number> {
    const numbers = await segmentNumbers(this.dir);
    const keep = new Set(referenced());
    if (this.segment) keep.add(this.segment.number);
    let removed = 0;
    for (const number of numbers) {
      if (keep.has(number)) continue;
      await unlink(join(this.dir, segmentName(number))).catch(() => undefined);
      removed++;
    }
    return removed;
  }

  private async writeLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let locations: TranscriptLocation[];
      try {
        locations = await this.writeBatch(batch.map((queued) => queued.line));
      } catch (error) {
        for (const queued of batch) queued.reject(error as Error);
        continue;
      }
      batch.forEach((queued, index) => queued.resolve(locations[index]!));
    }
    this.writing = undefined;
  }

  private async writeBatch(lines: Buffer[]): Promise<TranscriptLocation[]> {
    const segment = await this.currentSegment();
    const locations: TranscriptLocation[] = [];
    let offset = segment.size;
    for (const line of lines) {
      // The newline is left out: a location holds the JSON of one line.
      locations.push({ segment: segment.number, offset, length: line.length - 1 });
      offset += line.length;
    }
    const data = Buffer.concat(lines);
    try {
      await appendToLog(segment.handle, data, this.options);
      this.checkIdentity(segment);
    } catch (error) {
      // Whatever part of it the file took stays unreferenced; the next write starts a new segment,
      // and a segment that held nothing else goes, so a disk that stays full leaves no files.
      this.segment = undefined;
      await segment.handle.close().catch(() => undefined);
      if (segment.size === 0) await unlink(join(this.dir, segmentName(segment.number))).catch(() => undefined);
      throw error;
    }
    segment.size = offset;
    // Closed before the next write rather than now: until its locations are journaled it stays the current one.
    segment.full = segment.size >= SEGMENT_BYTES;
    return locations;
  }

  private async currentSegment(): Promise<OpenSegment> {
    if (this.segment?.full) await this.closeSegment();
    if (this.segment) return this.segment;
    const number = ++this.lastNumber;
    const opened = await openForAppend(this.dir, segmentName(number), this.options);
    this.segment = { number, ...opened, size: 0, full: false };
    return this.segment;
  }

  /** Written into a file nobody can find any more is not stored: checked before the job is marked processed. */
  private checkIdentity(segment: OpenSegment): void {
    if (isStillAtPath(join(this.dir, segmentName(segment.number)), segment)) return;
    throw new Error(`the transcript file ${segmentName(segment.number)} was removed or replaced (the store's folder deleted or moved?)`);
  }

  private async closeSegment(): Promise<void> {
    const segment = this.segment;
    if (!segment) return;
    this.segment = undefined;
    await segment.handle.close();
  }
}

async function segmentNumbers(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  return names.flatMap((name) => {
    const match = SEGMENT_FILE.exec(name);
    return match ? [Number(match[1])] : [];
  });
}

/** The transcript of job `ref` at `location` of the log in `dir`; a `StoreError` naming the file if it is not there. */
export async function readLoggedTranscript(dir: string, ref: string, location: TranscriptLocation): Promise<Transcript> {
  const path = join(dir, segmentName(location.segment));
  let text: string;
  try {
    const handle = await open(path, "r");
    try {
      const buffer = Buffer.alloc(location.length);
      const { bytesRead } = await handle.read(buffer, 0, location.length, location.offset);
      text = buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new StoreError(path, `Cannot read the transcript of job ref ${ref}: ${(error as Error).message}`, { cause: error });
  }
  let line: { ref?: unknown; transcript?: unknown };
  try {
    line = JSON.parse(text) as typeof line;
  } catch {
    throw new StoreError(path, `The transcript of job ref ${ref} at byte ${location.offset} is damaged (${text.length} of ${location.length} bytes read)`);
  }
  if (line.ref !== ref) throw new StoreError(path, `The transcript at byte ${location.offset} belongs to another job than ref ${ref} (the file was replaced?)`);
  const parsed = transcriptSchema.safeParse(line.transcript);
  if (!parsed.success) throw new StoreError(path, `The transcript of job ref ${ref} is not a transcript (${describeIssues(parsed.error)})`);
  return parsed.data;
}
