import type { FileHandle } from "node:fs/promises";
import { writeAtomically } from "./atomic-write.js";
import type { StoreDocument } from "./records.js";
import { writeFully } from "./write-fully.js";

const COLLECTIONS = ["jobs", "inbox", "deadLetters"] as const;
export type Collection = (typeof COLLECTIONS)[number];

/** What a snapshot writes: the document's header, and each collection's records as of the snapshot. */
export interface DocumentSource {
  version: number;
  journalSeq: number;
  /** Walked lazily, between writes: it must give the snapshot's records even if the store changed meanwhile. */
  entries(collection: Collection): Iterable<readonly [string, unknown]>;
}

/** A plain document that does not change while it is written. */
export function documentSource(doc: StoreDocument): DocumentSource {
  return { version: doc.version, journalSeq: doc.journalSeq, entries: (collection) => Object.entries(doc[collection]) };
}

/** Work between two hand-backs of the event loop: acks wait at most about this long for a snapshot. */
const SLICE_MS = 5;
/** Text held before it goes to the file, so a large document never sits in memory twice. */
const FLUSH_CHARS = 1 << 20;
/** Records serialised between two looks at the clock (reading it costs more than a small record). */
const RECORDS_PER_CHECK = 32;

/**
 * Writes the store document atomically, as the same JSON text `JSON.stringify(document)` gives
 * (the lowdb file every reader expects), one record at a time. Serialising a large document in
 * one call holds the event loop for seconds (every webhook's ack waits); here a slice of
 * records is serialised, written, and the loop is free while the write is under way.
 */
export async function writeDocument(path: string, source: DocumentSource, options: { fsync: boolean }): Promise<void> {
  await writeAtomically(
    path,
    async (handle) => {
      const out = new SlicedText(handle);
      out.add(`{"version":${source.version},"journalSeq":${source.journalSeq}`);
      for (const collection of COLLECTIONS) {
        out.add(`,"${collection}":{`);
        let separator = "";
        for (const [key, value] of source.entries(collection)) {
          out.add(`${separator}${JSON.stringify(key)}:${JSON.stringify(value)}`);
          separator = ",";
          if (out.sliceIsOver()) await out.flush();
        }
        out.add("}");
      }
      out.add("}");
      await out.flush();
    },
    options,
  );
}

/** Text on its way to a file, flushed once a slice of work is over or enough has gathered. */
class SlicedText {
  private parts: string[] = [];
  private chars = 0;
  private sinceCheck = 0;
  private sliceStarted = performance.now();

  constructor(private readonly handle: FileHandle) {}

  add(text: string): void {
    this.parts.push(text);
    this.chars += text.length;
  }

  sliceIsOver(): boolean {
    if (++this.sinceCheck < RECORDS_PER_CHECK) return false;
    this.sinceCheck = 0;
    return this.chars >= FLUSH_CHARS || performance.now() - this.sliceStarted >= SLICE_MS;
  }

  async flush(): Promise<void> {
    const data = Buffer.from(this.parts.join(""));
    this.parts = [];
    this.chars = 0;
    if (data.length > 0) await writeFully(this.handle, data);
    this.sliceStarted = performance.now();
  }
}
