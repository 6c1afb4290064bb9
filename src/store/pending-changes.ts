import type { Collection } from "./document-writer.js";
import type { Change } from "./journal.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "./records.js";

interface Records {
  jobs: JobRecord;
  inbox: DeliveryRecord;
  deadLetters: DeadLetterRecord;
}

/** The newest change of one key not durable yet: the value it leaves, `undefined` for a delete. */
interface Slot<T> {
  seq: number;
  value: T | undefined;
}

/**
 * Changes appended to the journal and not durable yet, laid over the durable document. Writers
 * read through them, so a check followed by a write in one tick sees every earlier write (two
 * deliveries of one job racing see each other); when a write fails they are all dropped, and
 * the durable document never held them.
 */
export class PendingChanges {
  private readonly slots: Record<Collection, Map<string, Slot<unknown>>> = { jobs: new Map(), inbox: new Map(), deadLetters: new Map() };
  private readonly refsOfSeq = new Map<number, readonly string[]>();
  private readonly seqOfRef = new Map<string, number>();

  /** Records `change`, made by journal entry `seq`. */
  record(seq: number, change: Change): void {
    this.slots[change[1]].set(change[2], { seq, value: change[0] === "put" ? change[3] : undefined });
  }

  /** Entry `seq` changes these jobs: `seqOf(ref)` is the last such entry until it is durable. */
  hold(seq: number, refs: readonly string[]): void {
    this.refsOfSeq.set(seq, refs);
    for (const ref of refs) this.seqOfRef.set(ref, seq);
  }

  /** The pending change of `key`, if there is one (its value may be `undefined`: deleted). */
  slot<C extends Collection>(collection: C, key: string): Slot<Records[C]> | undefined {
    return this.slots[collection].get(key) as Slot<Records[C]> | undefined;
  }

  /** Every pending change of `collection`. */
  changes<C extends Collection>(collection: C): IterableIterator<[string, Slot<Records[C]>]> {
    return this.slots[collection].entries() as IterableIterator<[string, Slot<Records[C]>]>;
  }

  /** The newest entry not durable yet that changes job `ref`. */
  seqOf(ref: string): number | undefined {
    return this.seqOfRef.get(ref);
  }

  /** Entry `seq`, holding `changes`, is durable: what it was the newest change of is read from the document again. */
  settle(seq: number, changes: readonly Change[]): void {
    for (const [, collection, key] of changes) {
      const slot = this.slots[collection].get(key);
      if (slot && slot.seq <= seq) this.slots[collection].delete(key);
    }
    for (const ref of this.refsOfSeq.get(seq) ?? []) {
      if ((this.seqOfRef.get(ref) ?? Number.POSITIVE_INFINITY) <= seq) this.seqOfRef.delete(ref);
    }
    this.refsOfSeq.delete(seq);
  }

  /** A write failed: nothing pending will become durable. */
  clear(): void {
    for (const slots of Object.values(this.slots)) slots.clear();
    this.refsOfSeq.clear();
    this.seqOfRef.clear();
  }
}
