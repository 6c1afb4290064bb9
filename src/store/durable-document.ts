import type { Collection, DocumentSource } from "./document-writer.js";
import type { Change } from "./journal.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord, StoreDocument } from "./records.js";

interface Records {
  jobs: JobRecord;
  inbox: DeliveryRecord;
  deadLetters: DeadLetterRecord;
}

/** A snapshot being written: the keys it has written, and what keys it has not reached were before they changed. */
interface SnapshotInProgress {
  written: Record<Collection, Set<string>>;
  before: Record<Collection, Map<string, unknown>>;
}

/**
 * The store document as the disk holds it (the lowdb document plus the durable journal entries),
 * kept in Maps: a Map can be walked a slice at a time while changes go on, which a snapshot of a
 * large store needs (merely listing a plain object's keys takes tens of ms at 100k jobs).
 */
export class DurableDocument {
  readonly version: number;
  /** Sequence number of the last journal entry applied. */
  journalSeq: number;
  private readonly maps: { [C in Collection]: Map<string, Records[C]> };
  private readonly refByJobId = new Map<string, string>();
  private readonly letterIdsByDelivery = new Map<string, Set<string>>();
  private snapshot: SnapshotInProgress | undefined;

  constructor(doc: StoreDocument) {
    this.version = doc.version;
    this.journalSeq = doc.journalSeq;
    this.maps = { jobs: new Map(Object.entries(doc.jobs)), inbox: new Map(Object.entries(doc.inbox)), deadLetters: new Map(Object.entries(doc.deadLetters)) };
    for (const job of this.maps.jobs.values()) this.indexJob(job);
    for (const letter of this.maps.deadLetters.values()) this.indexLetter(letter);
  }

  get<C extends Collection>(collection: C, key: string): Records[C] | undefined {
    return this.maps[collection].get(key);
  }

  values<C extends Collection>(collection: C): IterableIterator<Records[C]> {
    return this.maps[collection].values();
  }

  entries<C extends Collection>(collection: C): IterableIterator<[string, Records[C]]> {
    return this.maps[collection].entries();
  }

  size(collection: Collection): number {
    return this.maps[collection].size;
  }

  /** Local ref of the job with this provider job id. */
  refOf(provider: string, jobId: string): string | undefined {
    return this.refByJobId.get(`${provider}\u0000${jobId}`);
  }

  /** Ids of the dead letters of a delivery. */
  letterIdsOf(deliveryId: string): ReadonlySet<string> {
    return this.letterIdsByDelivery.get(deliveryId) ?? new Set();
  }

  apply(change: Change): void {
    const [op, collection, key] = change;
    const map = this.maps[collection] as Map<string, unknown>;
    const before = map.get(key);
    const snapshot = this.snapshot;
    if (snapshot && !snapshot.written[collection].has(key) && !snapshot.before[collection].has(key)) snapshot.before[collection].set(key, before);
    if (collection === "jobs") {
      if (before) this.unindexJob(before as JobRecord);
      if (op === "put") this.indexJob(change[3] as JobRecord);
    } else if (collection === "deadLetters") {
      if (before) this.unindexLetter(before as DeadLetterRecord);
      if (op === "put") this.indexLetter(change[3] as DeadLetterRecord);
    }
    if (op === "put") map.set(key, change[3]);
    else map.delete(key);
  }

  /**
   * The document as it is now, to be written while changes go on: a key not written yet keeps
   * the value it had now (copied when it changes). One at a time; `finish()` when written.
   */
  startSnapshot(): DocumentSource & { finish(): void } {
    const snapshot: SnapshotInProgress = {
      written: { jobs: new Set(), inbox: new Set(), deadLetters: new Set() },
      before: { jobs: new Map(), inbox: new Map(), deadLetters: new Map() },
    };
    this.snapshot = snapshot;
    const maps = this.maps;
    return {
      version: this.version,
      journalSeq: this.journalSeq,
      *entries(collection: Collection): Generator<[string, unknown]> {
        const { [collection]: written } = snapshot.written;
        const { [collection]: before } = snapshot.before;
        // A Map's iterator sees the changes made while it is paused: later keys come at the end
        // (their value before is `undefined`: left out), removed ones not at all (kept in `before`).
        for (const [key, value] of maps[collection] as Map<string, unknown>) {
          if (written.has(key)) continue;
          written.add(key);
          const then = before.has(key) ? before.get(key) : value;
          if (then !== undefined) yield [key, then];
        }
        for (const [key, then] of before) {
          if (written.has(key) || then === undefined) continue;
          written.add(key);
          yield [key, then];
        }
      },
      finish: () => {
        if (this.snapshot === snapshot) this.snapshot = undefined;
      },
    };
  }

  private indexJob(job: JobRecord): void {
    if (job.jobId !== undefined) this.refByJobId.set(`${job.provider}\u0000${job.jobId}`, job.ref);
  }

  private unindexJob(job: JobRecord): void {
    const key = `${job.provider}\u0000${job.jobId}`;
    if (job.jobId !== undefined && this.refByJobId.get(key) === job.ref) this.refByJobId.delete(key);
  }

  private indexLetter(letter: DeadLetterRecord): void {
    let ids = this.letterIdsByDelivery.get(letter.deliveryId);
    if (!ids) {
      ids = new Set();
      this.letterIdsByDelivery.set(letter.deliveryId, ids);
    }
    ids.add(letter.id);
  }

  private unindexLetter(letter: DeadLetterRecord): void {
    const ids = this.letterIdsByDelivery.get(letter.deliveryId);
    ids?.delete(letter.id);
    if (ids?.size === 0) this.letterIdsByDelivery.delete(letter.deliveryId);
  }
}
