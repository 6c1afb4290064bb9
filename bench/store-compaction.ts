import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../src/store/atomic-write.js";
import { FileJobStore } from "../src/store/file-job-store.js";
import { median, tempDir } from "./helpers.js";
import { buildStore } from "./store-fixture.js";
import { num, renderTable, verdict } from "./table.js";

/**
 * The longest time a snapshot of the store document keeps the event loop from answering
 * anything else (every webhook's ack waits that long): `FileJobStore.compact()`, which
 * serialises the document a slice at a time, next to the one-shot `JSON.stringify` of the
 * whole document it replaced, on the same document, in one run.
 */

const SIZES = [10_000, 50_000, 100_000];
const RUNS = 3;

export const compactionGoals = {
  /** Acks never wait longer than this for a snapshot, whatever the store size. */
  maxStallMs: 50,
};

export interface CompactionRow {
  jobs: number;
  /** Size of the document written. */
  bytes: number;
  /** Longest event-loop stall during one compaction, median over the runs, ms. */
  slicedStallMs: number;
  /** The whole compaction, median, ms. */
  slicedMs: number;
  /** The same for serialising the whole document in one call and writing it atomically. */
  oneShotStallMs: number;
  oneShotMs: number;
}

export interface StoreCompactionResult {
  runs: number;
  rows: CompactionRow[];
}

export async function storeCompaction(): Promise<StoreCompactionResult> {
  const rows: CompactionRow[] = [];
  for (const jobs of SIZES) rows.push(await measureSize(jobs));
  return { runs: RUNS, rows };
}

async function measureSize(jobs: number): Promise<CompactionRow> {
  const dir = await tempDir("compaction");
  try {
    const path = join(dir, "store.json");
    await buildStore(path, { processed: jobs, pending: 0 });
    const document: unknown = JSON.parse(await readFile(path, "utf8"));
    const sliced: { stallMs: number; ms: number }[] = [];
    const oneShot: { stallMs: number; ms: number }[] = [];
    const store = new FileJobStore({ path });
    await store.open();
    try {
      for (let run = 0; run < RUNS; run++) {
        sliced.push(await measureStall(() => store.compact()));
        // What compaction did before: the whole document in one JSON.stringify, then the atomic write.
        oneShot.push(await measureStall(() => writeFileAtomic(`${path}.one-shot`, JSON.stringify(document), { fsync: false })));
      }
    } finally {
      await store.close();
    }
    return {
      jobs,
      bytes: (await stat(path)).size,
      slicedStallMs: median(sliced.map((sample) => sample.stallMs)),
      slicedMs: median(sliced.map((sample) => sample.ms)),
      oneShotStallMs: median(oneShot.map((sample) => sample.stallMs)),
      oneShotMs: median(oneShot.map((sample) => sample.ms)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The longest event-loop stall while `work` runs: the longest gap between two turns of a 1 ms
 * timer (its own 1 ms included), and how long `work` took.
 */
async function measureStall(work: () => Promise<void>): Promise<{ stallMs: number; ms: number }> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    // Let the previous run's callbacks and garbage settle, so they are not counted here.
    await new Promise((resolve) => setTimeout(resolve, 50));
    longest = 0;
    last = performance.now();
    const started = performance.now();
    await work();
    const ms = performance.now() - started;
    // One more turn, so a stall at the very end is counted too.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { stallMs: longest, ms };
  } finally {
    clearInterval(ticker);
  }
}

export function compactionTable({ runs, rows }: StoreCompactionResult): string {
  return renderTable(
    `e. Store compaction: the longest event-loop stall during one snapshot (acks wait that long), median of ${runs}`,
    ["jobs in store", "document bytes", "sliced: longest stall ms", "sliced: total ms", "one-shot: longest stall ms", "one-shot: total ms", `goal <= ${compactionGoals.maxStallMs} ms`],
    rows.map((row) => [
      num(row.jobs),
      num(row.bytes),
      num(row.slicedStallMs, 1),
      num(row.slicedMs, 0),
      num(row.oneShotStallMs, 1),
      num(row.oneShotMs, 0),
      verdict(row.slicedStallMs <= compactionGoals.maxStallMs),
    ]),
    [
      "Sliced: FileJobStore.compact(), which serialises the document a few ms at a time and writes each slice before the next.",
      "One-shot: JSON.stringify of the whole document, then the same atomic write (what compaction did before).",
      "Stall: the longest gap between two turns of a 1 ms timer while the snapshot runs.",
    ],
  );
}
