import { existsSync, readFileSync, readdirSync } from "node:fs";
import { appendFile, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StoreError, Transcriber } from "hookscribe";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DurableDocument } from "../src/store/durable-document.js";
import { FileJobStore, type FileJobStoreOptions } from "../src/store/file-job-store.js";
import type { StatusChange } from "../src/store/job-store.js";
import type { DeliveryRecord, JobRecord } from "../src/store/records.js";
import type { ProviderEvent } from "../src/domain/provider-event.js";
import type { Transcript } from "../src/domain/transcript.js";
import { type Harness, harness, rejection, tempDir } from "./helpers.js";

/*
 * FileJobStore against real files. Everything claimed to be durable is checked by reading the
 * files with node:fs (never through the store object), or by opening a second store on the same
 * path without closing the first: the state a new process finds after a crash.
 */

let dir: string;
let storePath: string;
const stores: FileJobStore[] = [];

beforeEach(async () => {
  // lowdb's presets switch to memory under NODE_ENV=test; this store must not.
  vi.stubEnv("NODE_ENV", "test");
  dir = await tempDir();
  storePath = join(dir, "state", "store.json");
});

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** A store that never compacts in the background unless asked: "crash" tests control every snapshot. */
async function openStore(options: Partial<FileJobStoreOptions> = {}): Promise<FileJobStore> {
  const store = new FileJobStore({ path: storePath, compactDelayMs: 60_000, ...options });
  stores.push(store);
  await store.open();
  return store;
}

function jobRecord(ref: string, overrides: Partial<JobRecord> = {}): JobRecord {
  const now = Date.now();
  return {
    ref,
    provider: "generic",
    jobId: `job_${ref}`,
    status: "queued",
    tokenHash: `hash_${ref}`,
    createdAt: now,
    updatedAt: now,
    processed: false,
    ...overrides,
  };
}

/** The provider's `completed` webhook of `job`, as the receiver hands it to `changeStatus`. */
function completedEvent(job: JobRecord): ProviderEvent {
  return { jobId: job.jobId!, status: "completed", raw: { job_id: job.jobId, status: "completed" } };
}

/** A terminal status change of `job` carrying its event (so it makes a delivery): `completed`, or `error` with `error`. */
function terminalChange(job: JobRecord, at = Date.now(), error?: string): StatusChange {
  const jobId = job.jobId!;
  if (error === undefined) return { jobId, status: "completed", at, event: completedEvent(job) };
  return { jobId, status: "error", error, at, event: { jobId, status: "error", error, raw: { job_id: jobId, status: "error", error } } };
}

/** The delivery a terminal change made, as the store records it. */
function deliveryOf(change: StatusChange, ref: string, id: string): DeliveryRecord {
  return { id, ref, jobId: change.jobId, event: change.event!, receivedAt: change.at };
}

/** The job as a terminal change leaves it. */
function finished(job: JobRecord, change: StatusChange): JobRecord {
  return { ...job, jobId: change.jobId, status: change.status, ...(change.error === undefined ? {} : { error: change.error }), updatedAt: change.at, finishedAt: change.at };
}

/** A terminal change that must advance the job and make a delivery: its id. */
async function accept(store: FileJobStore, ref: string, change: StatusChange): Promise<string> {
  const result = await store.changeStatus(ref, change);
  expect(result.outcome).toBe("advanced");
  const { deliveryId } = result as { deliveryId?: string };
  expect(deliveryId).toEqual(expect.any(String));
  return deliveryId!;
}

/** Every job the store lists (durable ones), by ref. */
async function listed(store: FileJobStore): Promise<Map<string, JobRecord>> {
  return new Map((await store.listJobs({ limit: 1_000_000 })).map((job) => [job.ref, job]));
}

/** The refs of every job the store lists, sorted. */
async function listedRefs(store: FileJobStore): Promise<string[]> {
  return [...(await listed(store)).keys()].sort();
}

function transcriptOf(job: JobRecord): Transcript {
  return { jobId: job.jobId!, provider: "generic", status: "completed", text: `text of ${job.ref}`, words: [], raw: {} };
}

const journalDir = () => `${storePath}.journal`;
const transcriptsDir = () => `${storePath}.transcripts`;

/** The transcript log's segment files, in order. */
async function transcriptSegments(at = transcriptsDir()): Promise<string[]> {
  return (await readdir(at)).filter((name) => /^transcripts-\d{10}\.ndjson$/.test(name)).sort();
}

/** Stores `transcript` as the worker does: the job's terminal event, then its completion. */
async function complete(store: FileJobStore, job: JobRecord, transcript: Transcript): Promise<void> {
  const deliveryId = await accept(store, job.ref, terminalChange(job));
  expect(await store.completeDelivery(deliveryId, { kind: "completed", transcript }, Date.now())).toBe(true);
}

async function segmentNames(): Promise<string[]> {
  if (!existsSync(journalDir())) return [];
  return (await readdir(journalDir())).filter((name) => /^journal-\d{10}\.ndjson$/.test(name)).sort();
}

interface Line {
  seq: number;
  changes: [string, string, string, unknown?][];
}

/** Every complete journal line on disk, in segment order. */
async function journalLines(): Promise<Line[]> {
  const lines: Line[] = [];
  for (const name of await segmentNames()) {
    const text = await readFile(join(journalDir(), name), "utf8");
    for (const line of text.split("\n")) if (line !== "") lines.push(JSON.parse(line) as Line);
  }
  return lines;
}

async function readDocument(): Promise<{ journalSeq: number; jobs: Record<string, JobRecord>; inbox: Record<string, unknown>; deadLetters: Record<string, unknown> }> {
  return JSON.parse(await readFile(storePath, "utf8"));
}

/** The open() error, so its class, message and the untouched file can all be checked. */
async function openError(): Promise<unknown> {
  const store = new FileJobStore({ path: storePath, compactDelayMs: 60_000 });
  stores.push(store);
  return store.open().then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("FileJobStore: the journal makes every acked change durable", () => {
  it("has a saved job in the journal file as soon as createJob resolves, and in the document after compact()", async () => {
    const store = await openStore();
    const job = jobRecord("a1");
    await store.createJob(job);

    // Before any compaction: the document does not hold it yet, the journal does.
    expect((await readDocument()).jobs).toEqual({});
    const lines = await journalLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.changes).toEqual([["put", "jobs", "a1", job]]);
    const segmentsBefore = await segmentNames();
    expect(segmentsBefore).toHaveLength(1);

    await store.compact();
    const doc = await readDocument();
    expect(doc.jobs).toEqual({ a1: job });
    expect(doc.journalSeq).toBe(lines[0]!.seq);
  });

  it("deletes the journal segments a snapshot covers once the snapshot is on disk", async () => {
    const store = await openStore();
    await store.createJob(jobRecord("a1"));
    await store.createJob(jobRecord("a2"));
    const covered = await segmentNames();
    expect(covered).toHaveLength(1);
    await store.compact();
    const { journalSeq, jobs } = await readDocument();
    expect(journalSeq).toBe(2);
    expect(Object.keys(jobs).sort()).toEqual(["a1", "a2"]);
    // Every entry of these segments is folded (seq <= journalSeq): they must be gone.
    for (const name of covered) expect(existsSync(join(journalDir(), name)), `${name} is covered by journalSeq ${journalSeq}`).toBe(false);
    expect((await journalLines()).filter((line) => line.seq <= journalSeq)).toEqual([]);
  });

  it("deletes covered segments once later writes moved to a new segment", async () => {
    const store = await openStore();
    await store.createJob(jobRecord("a1"));
    await store.compact();
    await store.createJob(jobRecord("a2"));
    await store.compact();
    const { journalSeq, jobs } = await readDocument();
    expect(Object.keys(jobs).sort()).toEqual(["a1", "a2"]);
    expect(journalSeq).toBe(2);
    // The segment holding seq 1 is gone; at most the one still open for appends remains.
    expect((await journalLines()).map((line) => line.seq)).not.toContain(1);
    expect((await segmentNames()).length).toBeLessThanOrEqual(1);
  });

  it("folds the journal into the document and leaves no journal on close()", async () => {
    const store = await openStore();
    await store.createJob(jobRecord("a1"));
    await store.close();
    expect((await readDocument()).jobs).toHaveProperty("a1");
    expect(await journalLines()).toEqual([]);
  });

  describe.each([{ fsync: false }, { fsync: true }])("after a crash (fsync: $fsync)", ({ fsync }) => {
    it("a second store on the same path sees every change whose promise resolved", async () => {
      const first = await openStore({ fsync });
      const a = jobRecord("a1");
      const b = jobRecord("b1");
      await first.createJob(a);
      await first.createJob(b);
      const change = terminalChange(b);
      const deliveryId = await accept(first, b.ref, change);
      const done = finished(b, change);
      const delivery = deliveryOf(change, b.ref, deliveryId);
      // No close(), no compaction: the process dies right after the acks.
      expect((await readDocument()).jobs).toEqual({});

      const second = await openStore({ fsync });
      expect(await second.job("a1")).toEqual(a);
      expect(await second.job("b1")).toEqual(done);
      expect(await second.jobByProviderId("generic", "job_b1")).toEqual(done);
      expect(await second.pendingDelivery("b1")).toEqual(delivery);
      expect(await second.pendingDelivery("a1")).toBeUndefined();
      // Every delivery not processed yet, handed to the new process's worker.
      expect(await second.takeOver()).toEqual([delivery]);
      expect(second.unprocessedCount()).toBe(1);
      // Opening folded the replayed entries into the document.
      const doc = await readDocument();
      expect(Object.keys(doc.jobs).sort()).toEqual(["a1", "b1"]);
      expect(Object.keys(doc.inbox)).toEqual([deliveryId]);
    });

    it("replay skips what the snapshot folded and replays later puts and deletes once", async () => {
      const first = await openStore({ fsync });
      const a = jobRecord("a1");
      const b = jobRecord("b1");
      await first.createJob(a);
      await first.createJob(b);
      const d1 = await accept(first, b.ref, terminalChange(b));
      await first.compact();
      expect((await readDocument()).journalSeq).toBe(3);

      // After the snapshot: a new job, an update, processed deliveries (del inbox) and a prune (del jobs).
      const c = jobRecord("c1");
      await first.createJob(c);
      const d2 = await accept(first, a.ref, terminalChange(a, 1, "bad audio"));
      expect(await first.completeDelivery(d2, { kind: "error", error: "bad audio" }, 1)).toBe(true);
      expect(await first.completeDelivery(d1, { kind: "completed", transcript: transcriptOf(b) }, Date.now())).toBe(true);
      expect(await first.prune(2)).toBe(1); // a1 finished at 1 ms after the epoch; b1 just now
      const expected = await listed(first);
      expect([...expected.keys()].sort()).toEqual(["b1", "c1"]);
      expect(expected.get("b1")).toMatchObject({ status: "completed", processed: true });

      const second = await openStore({ fsync });
      expect(await listed(second)).toEqual(expected);
      expect(await second.job("a1")).toBeUndefined();
      expect(await second.jobByProviderId("generic", "job_a1")).toBeUndefined();
      expect(await second.pendingDelivery("a1")).toBeUndefined();
      expect(await second.pendingDelivery("b1")).toBeUndefined();
      expect(await second.takeOver()).toEqual([]);
      expect(second.unprocessedCount()).toBe(0);
      expect(await second.job("c1")).toEqual(c);
    });
  });

  it("never applies a journal entry at or below the document's journalSeq again", async () => {
    // A crash between writing the snapshot and deleting its segments leaves folded entries behind.
    const stale = jobRecord("gone");
    const kept = jobRecord("kept");
    await mkdir(journalDir(), { recursive: true });
    await writeFile(
      storePath,
      JSON.stringify({ version: 1, journalSeq: 2, jobs: {}, inbox: {}, deadLetters: {} }),
      { mode: 0o600 },
    );
    // seq 1 is folded (journalSeq 2): applying it again would bring back a job the document does not hold.
    await writeFile(
      join(journalDir(), "journal-0000000001.ndjson"),
      `${JSON.stringify({ seq: 1, changes: [["put", "jobs", "gone", stale]] })}\n` +
        `${JSON.stringify({ seq: 3, changes: [["put", "jobs", "kept", kept]] })}\n`,
    );

    const store = await openStore();
    expect(await store.job("gone")).toBeUndefined();
    expect(await store.job("kept")).toEqual(kept);
    const next = jobRecord("next");
    await store.createJob(next);
    // Sequence numbers continue after the highest one seen, so a later replay keeps its order.
    const seqs = (await journalLines()).map((line) => line.seq);
    expect(Math.max(...seqs)).toBe(4);
  });

  it("ignores a torn last line (a crash mid-write) and loses nothing acked", async () => {
    const first = await openStore();
    await first.createJob(jobRecord("a1"));
    await first.createJob(jobRecord("a2"));
    const [segment] = await segmentNames();
    await appendFile(join(journalDir(), segment!), '{"seq":3,"changes":[["put","jobs","a3",{"ref":"a3","prov');

    const second = await openStore();
    expect(await listedRefs(second)).toEqual(["a1", "a2"]);
    await second.createJob(jobRecord("a4"));

    // Still consistent after more appends and another crash.
    const third = await openStore();
    expect(await listedRefs(third)).toEqual(["a1", "a2", "a4"]);
  });

  it("ignores a torn last line of an older segment (a failed write continues in a fresh segment)", async () => {
    // What a write that failed half-way and could not be cut back leaves: the torn segment is closed, later writes go to the next one.
    const a1 = jobRecord("a1");
    const a2 = jobRecord("a2");
    await mkdir(journalDir(), { recursive: true });
    await writeFile(
      join(journalDir(), "journal-0000000001.ndjson"),
      `${JSON.stringify({ seq: 1, changes: [["put", "jobs", "a1", a1]] })}\n{"seq":2,"changes":[["put","jo`,
    );
    await writeFile(join(journalDir(), "journal-0000000002.ndjson"), `${JSON.stringify({ seq: 2, changes: [["put", "jobs", "a2", a2]] })}\n`);

    const store = await openStore();
    expect(await store.job("a1")).toEqual(a1);
    expect(await store.job("a2")).toEqual(a2);
    // Folded and cleaned up at open.
    expect((await readDocument()).jobs).toEqual({ a1, a2 });
    expect(await segmentNames()).toEqual([]);
  });

  it("refuses a damaged line in the middle of a segment with a StoreError naming the file", async () => {
    const first = await openStore();
    await first.createJob(jobRecord("a1"));
    await first.createJob(jobRecord("a2"));
    const [segment] = await segmentNames();
    const path = join(journalDir(), segment!);
    const lines = (await readFile(path, "utf8")).split("\n");
    lines.splice(1, 0, '{"seq":99,"changes":[["put","jobs"'); // a damaged line with a good one after it
    await writeFile(path, lines.join("\n"));
    const bytes = await readFile(path);
    const documentBytes = await readFile(storePath);

    const error = await openError();
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(path);
    expect((error as StoreError).message).toMatch(/line 2/);
    expect(await readFile(path)).toEqual(bytes);
    expect(await readFile(storePath)).toEqual(documentBytes);
  });
});

describe("FileJobStore: a transcript that came with its webhook", () => {
  /** The `completed` change of `job` carrying its transcript, as the intake makes it. */
  const completedWith = (job: JobRecord, transcript: Transcript): StatusChange => ({ ...terminalChange(job), transcript });

  it("stores the job finished with its transcript and no delivery; a second store on the path reads it back", async () => {
    const store = await openStore();
    const job = jobRecord("onreceipt");
    await store.createJob(job);
    const result = await store.changeStatus(job.ref, completedWith(job, transcriptOf(job)));
    expect(result).toMatchObject({ outcome: "advanced", job: { status: "completed", processed: true } });
    expect(result).not.toHaveProperty("deliveryId");
    expect(store.unprocessedCount()).toBe(0);

    const after = await openStore();
    expect(await after.job(job.ref)).toMatchObject({ status: "completed", processed: true });
    expect(await after.pendingDelivery(job.ref)).toBeUndefined();
    expect((await after.readTranscript(job.ref))?.text).toBe("text of onreceipt");
  });

  it("moves the job once when the same webhook arrives several times at once: one advance, the rest unchanged", async () => {
    const store = await openStore();
    const job = jobRecord("racing");
    await store.createJob(job);
    const results = await Promise.all(Array.from({ length: 5 }, () => store.changeStatus(job.ref, completedWith(job, transcriptOf(job)))));
    expect(results.map((result) => result.outcome).sort()).toEqual(["advanced", "unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(results.every((result) => "job" in result && result.job.processed)).toBe(true);
    // One transcript line and one journal entry moved the job: the waiting ones wrote nothing.
    const lines = (await readFile(join(transcriptsDir(), (await transcriptSegments())[0]!), "utf8")).split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
  });

  it("changes nothing when the transcript cannot be written, and the duplicate that waited on it stores it once the store can write", async () => {
    const store = await openStore({ probeIntervalMs: 10 });
    const job = jobRecord("unwritable");
    await store.createJob(job);
    await rm(transcriptsDir(), { recursive: true });
    await writeFile(transcriptsDir(), "a file where the transcripts folder should be");
    const first = store.changeStatus(job.ref, completedWith(job, transcriptOf(job)));
    const waiting = store.changeStatus(job.ref, completedWith(job, transcriptOf(job)));
    expect(await rejection(first)).toBeInstanceOf(StoreError);
    expect(await rejection(waiting)).toBeInstanceOf(StoreError);
    expect(await store.job(job.ref)).toMatchObject({ status: "queued", processed: false });

    await rm(transcriptsDir());
    await mkdir(transcriptsDir());
    await store.whenHealthy();
    expect(await store.changeStatus(job.ref, completedWith(job, transcriptOf(job)))).toMatchObject({ outcome: "advanced", job: { processed: true } });
    expect((await store.readTranscript(job.ref))?.text).toBe("text of unwritable");
  });
});

describe("FileJobStore: a corrupt document is refused, never overwritten", () => {
  const cases = [
    ["invalid JSON", '{"version":1,"journalSeq":0,"jobs":{'],
    ["valid JSON of the wrong shape", JSON.stringify({ version: 1, journalSeq: 0, jobs: [], inbox: {}, deadLetters: {} })],
    ["another version", JSON.stringify({ version: 2, journalSeq: 0, jobs: {}, inbox: {}, deadLetters: {} })],
    ["a JSON array", "[]"],
  ] as const;

  it.each(cases)("open() rejects a document holding %s with a StoreError naming the file", async (_, content) => {
    await mkdir(join(dir, "state"), { recursive: true });
    await writeFile(storePath, content, { mode: 0o600 });
    const before = await readFile(storePath);

    const error = await openError();
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(storePath);
    expect((error as StoreError).path).toBe(storePath);
    expect(await readFile(storePath)).toEqual(before);
    // The store is unusable, not silently empty.
    const store = stores.at(-1)!;
    await expect(store.createJob(jobRecord("x"))).rejects.toBeInstanceOf(StoreError);
    expect(await readFile(storePath)).toEqual(before);
  });

  describe("through the client", () => {
    let h: Harness;
    afterEach(async () => h?.cleanup());

    it.each(cases)("start() and transcribe() reject with the StoreError for %s; the file stays as it was", async (_, content) => {
      h = await harness();
      await writeFile(h.storePath, content, { mode: 0o600 });
      const before = await readFile(h.storePath);

      const error = await rejection(h.client.start());
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toContain(h.storePath);
      expect(h.client.receiverUrl).toBeUndefined();
      await expect(h.client.transcribe("https://audio.example/x.wav")).rejects.toBeInstanceOf(StoreError);

      // A second process meets the same refusal.
      const other: Transcriber = h.restart();
      await expect(other.start()).rejects.toBeInstanceOf(StoreError);
      await h.client.close();
      await other.close();
      expect(await readFile(h.storePath)).toEqual(before);
      expect(h.dev.stats.submits).toBe(0);
    });
  });
});

describe("FileJobStore: files", () => {
  it("writes the document, journal segments and transcript segments with mode 0600", async () => {
    const store = await openStore();
    const job = jobRecord("m1");
    await store.createJob(job);
    await complete(store, job, transcriptOf(job));
    const mode = async (path: string) => (await stat(path)).mode & 0o777;

    const segments = await segmentNames();
    expect(segments.length).toBeGreaterThan(0);
    for (const name of segments) expect(await mode(join(journalDir(), name))).toBe(0o600);
    const transcripts = await transcriptSegments();
    expect(transcripts).toHaveLength(1);
    expect(await mode(join(transcriptsDir(), transcripts[0]!))).toBe(0o600);
    await store.compact();
    expect(await mode(storePath)).toBe(0o600);
    // No temp file of the atomic writes is left behind.
    expect((await readdir(join(dir, "state"))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("appends the transcripts stored at one moment in one segment and reads each back by its job, whatever the ref", async () => {
    const store = await openStore();
    const jobs = ["../../escape", "t1", "t2", "t3"].map((ref) => jobRecord(ref));
    for (const job of jobs) await store.createJob(job);
    await Promise.all(jobs.map((job) => complete(store, job, transcriptOf(job))));
    expect(existsSync(join(dir, "escape.json"))).toBe(false);
    expect(await transcriptSegments()).toHaveLength(1);
    for (const job of jobs) expect(await store.readTranscript(job.ref)).toEqual(transcriptOf(job));
    // After a restart, from the journal's locations.
    await store.close();
    const second = await openStore();
    for (const job of jobs) expect(await second.readTranscript(job.ref)).toEqual(transcriptOf(job));
  });

  it("refuses a location that points at another job's transcript with a StoreError, never that transcript", async () => {
    const store = await openStore();
    const [a, b] = [jobRecord("a1"), jobRecord("b1")];
    for (const job of [a, b]) await store.createJob(job);
    await complete(store, a, transcriptOf(a));
    await complete(store, b, transcriptOf(b));
    const locationOfB = (await store.job("b1"))!.transcriptAt!;
    await store.createJob({ ...(await store.job("a1"))!, transcriptAt: locationOfB });
    await expect(store.readTranscript("a1")).rejects.toThrow(/belongs to another job/);
  });

  it("still reads a transcript kept in a file of its own, as stores written before the transcript log hold them", async () => {
    const store = await openStore();
    const job = jobRecord("legacy", { status: "completed", processed: true, finishedAt: Date.now() });
    await store.createJob(job);
    await writeFile(join(transcriptsDir(), "legacy.json"), JSON.stringify(transcriptOf(job)));
    expect(await store.readTranscript("legacy")).toEqual(transcriptOf(job));
  });
});

describe("FileJobStore: prune", () => {
  it("removes processed jobs finished before the cutoff and their transcripts, keeps pending and recent ones", async () => {
    const now = Date.now();
    const old = now - 60_000;
    const store = await openStore();
    const jobs = {
      oldDone: jobRecord("oldDone", { status: "completed", processed: true, createdAt: old, updatedAt: old, finishedAt: old }),
      oldFailed: jobRecord("oldFailed", { status: "error", processed: true, error: "x", createdAt: old, updatedAt: old, finishedAt: old }),
      recentDone: jobRecord("recentDone", { status: "completed", processed: true, finishedAt: now }),
      oldPending: jobRecord("oldPending", { status: "processing", createdAt: old, updatedAt: old }),
      // Terminal but its delivery not processed yet: the worker still needs it.
      oldUnprocessed: jobRecord("oldUnprocessed", { status: "completed", createdAt: old, updatedAt: old, finishedAt: old }),
    };
    // The old transcript in a segment of its own (a store opened later appends to a new one).
    await store.createJob({ ...jobs.oldDone, transcriptAt: await store.writeTranscript(jobs.oldDone.ref, transcriptOf(jobs.oldDone)) });
    await store.close();
    const store2 = await openStore();
    const recentAt = await store2.writeTranscript(jobs.recentDone.ref, transcriptOf(jobs.recentDone));
    for (const job of Object.values(jobs)) if (job !== jobs.oldDone) await store2.createJob(job === jobs.recentDone ? { ...job, transcriptAt: recentAt } : job);
    const [oldSegment, recentSegment] = await transcriptSegments();

    expect(await store2.prune(now - 1000)).toBe(2);
    expect(await transcriptSegments()).toEqual([recentSegment]);
    expect(oldSegment).not.toBe(recentSegment);
    expect(await store2.readTranscript("recentDone")).toEqual(transcriptOf(jobs.recentDone));

    // Durable: a new process sees the same.
    await store2.close();
    const second = await openStore();
    expect(await listedRefs(second)).toEqual(["oldPending", "oldUnprocessed", "recentDone"]);
    expect(await second.jobByProviderId("generic", "job_oldDone")).toBeUndefined();
    expect(await second.prune(now - 1000)).toBe(0);
  });

  describe("through the client's retentionMs", () => {
    let h: Harness;
    afterEach(async () => h?.cleanup());

    it("prunes finished jobs at start() and keeps pending ones", async () => {
      h = await harness();
      const done = await h.client.transcribe("https://audio.example/old.wav");
      await h.client.close();
      expect(await transcriptSegments(`${h.storePath}.transcripts`)).toHaveLength(1);

      // A job still waiting for its webhook, as an earlier process left it.
      const pendingStore = new FileJobStore({ path: h.storePath });
      await pendingStore.open();
      const old = Date.now() - 60_000;
      await pendingStore.createJob(jobRecord("pending", { createdAt: old, updatedAt: old }));
      await pendingStore.close();

      await letClockAdvance();
      const client = h.restart({ retentionMs: 1 });
      await client.start();
      await expect(client.job(done.jobId)).rejects.toMatchObject({ name: "UnknownJobError" });
      await client.close();

      const doc = await readDocumentAt(h.storePath);
      expect(Object.keys(doc.jobs)).toEqual(["pending"]);
      expect(await transcriptSegments(`${h.storePath}.transcripts`)).toEqual([]);
    });
  });
});

async function readDocumentAt(path: string): Promise<{ jobs: Record<string, JobRecord> }> {
  return JSON.parse(await readFile(path, "utf8"));
}

/** Lets the clock move past the last finishedAt, so a 1 ms retention surely covers it. */
async function letClockAdvance(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 2));
}

describe("FileJobStore: group commit and durability waits", () => {
  it("resolves 1000 concurrent saves with 1000 journal entries in few segments", async () => {
    const store = await openStore();
    const jobs = Array.from({ length: 1000 }, (_, i) => jobRecord(`g${i}`));
    await Promise.all(jobs.map((job) => store.createJob(job)));

    const lines = await journalLines();
    expect(lines).toHaveLength(1000);
    expect(new Set(lines.map((line) => line.seq)).size).toBe(1000);
    expect(new Set(lines.map((line) => line.changes[0]![2]))).toEqual(new Set(jobs.map((job) => job.ref)));
    expect((await segmentNames()).length).toBeLessThanOrEqual(2);

    const second = await openStore();
    expect((await listed(second)).size).toBe(1000);
  });

  it("resolves 1000 concurrent saves with fsync: true", async () => {
    const store = await openStore({ fsync: true });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => store.createJob(jobRecord(`f${i}`))));
    expect(await journalLines()).toHaveLength(1000);
    await store.compact();
    expect(Object.keys((await readDocument()).jobs)).toHaveLength(1000);
  });

  it.each([{ fsync: false }, { fsync: true }])("whenDurable(ref) and job(ref) resolve once the job's last write is in the file (fsync: $fsync)", async ({ fsync }) => {
    const store = await openStore({ fsync });
    const job = jobRecord("w1");
    const saved = store.createJob(job);
    const at = Date.now();
    const moved = store.changeStatus("w1", { jobId: "job_w1", status: "processing", at });
    const updated: JobRecord = { ...job, status: "processing", updatedAt: at };
    const inFile = () =>
      segmentNamesSync().some((name) => readFileSync(join(journalDir(), name), "utf8").includes('"status":"processing"'));
    // Both writes are in flight: the file does not hold them yet.
    expect(inFile()).toBe(false);
    // Asked now, job() answers once the last of them is in the file, with it.
    const read = store.job("w1").then((found) => ({ found, inFile: inFile() }));

    await store.whenDurable("w1");
    expect(inFile()).toBe(true);
    expect(await read).toEqual({ found: updated, inFile: true });
    await saved;
    expect(await moved).toEqual({ outcome: "advanced", job: updated });
    // Nothing pending for an unknown ref.
    await store.whenDurable("unknown");
  });

  it("rejects writes after close() with a StoreError", async () => {
    const store = await openStore();
    await store.close();
    await expect(store.createJob(jobRecord("late"))).rejects.toBeInstanceOf(StoreError);
  });
});

function segmentNamesSync(): string[] {
  if (!existsSync(journalDir())) return [];
  return readdirSync(journalDir()).filter((name) => /^journal-\d{10}\.ndjson$/.test(name));
}

describe("FileJobStore: when snapshots happen", () => {
  function documentSeq(): number {
    return existsSync(storePath) ? JSON.parse(readFileSync(storePath, "utf8")).journalSeq : 0;
  }

  it("waits for a pause in the changes, so a burst's acks never wait behind a rewrite", async () => {
    const store = await openStore({ compactDelayMs: 80, compactMaxDelayMs: 10_000 });
    for (let i = 0; i < 10; i++) {
      await store.createJob(jobRecord(`burst${i}`));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(documentSeq()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(documentSeq()).toBe(10);
  });

  it("still folds the journal in under continuous load, every compactMaxDelayMs", async () => {
    const store = await openStore({ compactDelayMs: 80, compactMaxDelayMs: 150 });
    const started = Date.now();
    let seq = 0;
    while (Date.now() - started < 400) {
      await store.createJob(jobRecord(`load${seq++}`));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(documentSeq()).toBeGreaterThan(0);
    expect(documentSeq()).toBeLessThan(seq);
  });
});

describe("FileJobStore: memory follows the disk", () => {
  it("shows a change in listings only once it is durable, and answers lookups asked while it is in flight once it is", async () => {
    const store = await openStore();
    const list = () => store.listJobs({ limit: 10 });
    const created = jobRecord("v1", { status: "submitting" });
    delete created.jobId;
    const saved = store.createJob(created);
    // Asked while the write is in flight: answered once it is durable (the listing then shows it too).
    const byRef = store.job("v1").then(async (found) => ({ found, listed: await list() }));
    // No listing shows what the disk does not hold yet.
    expect(await list()).toEqual([]);
    await saved;
    expect(await byRef).toEqual({ found: created, listed: [created] });

    // The submit's answer brings the provider's job id: a lookup by it, asked while that write is in flight, finds the job.
    const at = created.updatedAt + 1;
    const moved = store.changeStatus("v1", { jobId: "job_v1", status: "queued", at });
    const byId = store.jobByProviderId("generic", "job_v1").then(async (found) => ({ found, listed: await list() }));
    expect(await list()).toEqual([created]);
    expect(await store.pendingJobs()).toEqual([]);
    const queued: JobRecord = { ...created, jobId: "job_v1", status: "queued", updatedAt: at };
    expect(await moved).toEqual({ outcome: "advanced", job: queued });
    expect(await byId).toEqual({ found: queued, listed: [queued] });
    expect(await store.pendingJobs()).toEqual([queued]);

    // The provider's error webhook: the job is terminal and a delivery waits for the worker.
    const change = terminalChange(queued, at + 1, "bad audio");
    const accepted = store.changeStatus("v1", change);
    const delivery = store.pendingDelivery("v1").then(async (found) => ({ found, listed: await list() }));
    expect(await list()).toEqual([queued]);
    const result = await accepted;
    const done = finished(queued, change);
    expect(result).toEqual({ outcome: "advanced", job: done, deliveryId: expect.any(String) });
    const deliveryId = (result as { deliveryId: string }).deliveryId;
    expect(await delivery).toEqual({ found: deliveryOf(change, "v1", deliveryId), listed: [done] });

    // Dead-lettered once, then processed: the dead letter goes with the completion, not before it is durable.
    const letter = { id: deliveryId, deliveryId, ref: "v1", jobId: "job_v1", error: "x", attempts: 1, failedAt: 1 };
    await store.saveDeadLetter(letter);
    expect(await store.deadLetters()).toEqual([letter]);
    const completed = store.completeDelivery(deliveryId, { kind: "error", error: "bad audio" }, at + 2);
    expect(await store.deadLetters()).toEqual([letter]);
    expect(await store.deadLetter(deliveryId)).toEqual(letter);
    expect(await list()).toEqual([done]);
    expect(await completed).toBe(true);
    expect(await store.deadLetters()).toEqual([]);
    expect(await store.deadLetter(deliveryId)).toBeUndefined();
    expect(await store.pendingDelivery("v1")).toBeUndefined();
    // It ended when its terminal event came, as on every store.
    expect(await list()).toEqual([{ ...done, processed: true, finishedAt: at + 1, updatedAt: at + 2 }]);
  });

  it("applies two racing terminal changes of one job once: one delivery, the other answered unchanged once that one is durable", async () => {
    const store = await openStore();
    const job = jobRecord("r1");
    await store.createJob(job);
    const inboxInFile = () => segmentNamesSync().some((name) => readFileSync(join(journalDir(), name), "utf8").includes('["put","inbox"'));
    // The webhook and the provider's retry of it, arriving together: both are checked before either is durable.
    const first = terminalChange(job);
    const retry = terminalChange(job, first.at + 1);
    const [advanced, repeated] = await Promise.all([
      store.changeStatus("r1", first),
      store.changeStatus("r1", retry).then((result) => ({ result, inboxInFile: inboxInFile() })),
    ]);

    const done = finished(job, first);
    expect(advanced).toEqual({ outcome: "advanced", job: done, deliveryId: expect.any(String) });
    const deliveryId = (advanced as { deliveryId: string }).deliveryId;
    expect(repeated).toEqual({ result: { outcome: "unchanged", job: done }, inboxInFile: true });
    const inboxPuts = (await journalLines()).flatMap((line) => line.changes).filter(([op, collection]) => op === "put" && collection === "inbox");
    expect(inboxPuts.map((change) => change[2])).toEqual([deliveryId]);
    expect(store.unprocessedCount()).toBe(1);

    const restarted = await openStore();
    expect(await restarted.job("r1")).toEqual(done);
    expect(await restarted.takeOver()).toEqual([deliveryOf(first, "r1", deliveryId)]);
  });

  it("counts the deliveries not processed yet, without dead-lettered ones, in flight included", async () => {
    const store = await openStore();
    const jobs = ["u1", "u2", "u3"].map((ref) => jobRecord(ref));
    await Promise.all(jobs.map((job) => store.createJob(job)));
    const writes = jobs.map((job) => accept(store, job.ref, terminalChange(job)));
    expect(store.unprocessedCount()).toBe(3);
    const ids = await Promise.all(writes);
    expect(await store.completeDelivery(ids[0]!, { kind: "completed", transcript: transcriptOf(jobs[0]!) }, Date.now())).toBe(true);
    expect(store.unprocessedCount()).toBe(2);
    await store.saveDeadLetter({ id: ids[1]!, deliveryId: ids[1]!, ref: "u2", jobId: "job_u2", error: "x", attempts: 3, failedAt: Date.now() });
    expect(store.unprocessedCount()).toBe(1);

    const restarted = await openStore();
    expect(restarted.unprocessedCount()).toBe(1);
    expect((await restarted.takeOver()).map((delivery) => delivery.id)).toEqual([ids[2]]);
  });
});

describe("FileJobStore: snapshots never hold the event loop for the whole document", () => {
  it("serialises the document in pieces and writes the state of the moment it started, while writes go on", async () => {
    const store = await openStore();
    const jobs = Array.from({ length: 30_000 }, (_, i) => jobRecord(`s${i}`, { error: "e".repeat(100) }));
    // The last one finished long ago: pruned while the snapshot is written, before the snapshot reached it.
    jobs[29_999] = { ...jobs[29_999]!, status: "completed", processed: true, finishedAt: 1 };
    await Promise.all(jobs.map((job) => store.createJob(job)));

    const stringify = vi.spyOn(JSON, "stringify");
    const compaction = store.compact();
    // Changes made while the snapshot is being written: none of them is in it, all are in the journal.
    let settled = false;
    void compaction.finally(() => (settled = true));
    const during: Promise<unknown>[] = [];
    const late = jobRecord("late");
    let turns = 0;
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
      if (turns === 1) {
        during.push(store.changeStatus("s0", { jobId: "job_s0", status: "processing", at: Date.now() }));
        during.push(store.prune(2));
        during.push(store.createJob(late));
      }
    }
    await compaction;
    await Promise.all(during);
    const largest = Math.max(...stringify.mock.results.map((result) => (typeof result.value === "string" ? result.value.length : 0)));
    stringify.mockRestore();
    // The whole document is about 6 MB; no single piece of it comes near that.
    expect(largest).toBeLessThan(1024 * 1024);

    const doc = await readDocument();
    expect(Object.keys(doc.jobs)).toHaveLength(30_000);
    expect(doc.jobs.s0).toEqual(jobs[0]);
    expect(doc.jobs.s29999).toEqual(jobs[29_999]);
    expect(doc.jobs.late).toBeUndefined();
    expect(doc.journalSeq).toBe(30_000);

    const restarted = await openStore();
    expect((await restarted.job("s0"))?.status).toBe("processing");
    expect(await restarted.job("late")).toEqual(late);
    expect(await restarted.job("s29999")).toBeUndefined();
    expect((await listed(restarted)).size).toBe(30_000);
  });
});

describe("DurableDocument: a snapshot walked a slice at a time", () => {
  it("gives every record as it was when the snapshot started, whatever changes while it is walked", () => {
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((ref) => jobRecord(ref)) as [JobRecord, JobRecord, JobRecord, JobRecord, JobRecord];
    const doc = new DurableDocument({ version: 1, journalSeq: 4, jobs: { a, b, c, d }, inbox: {}, deadLetters: {} });
    const snapshot = doc.startSnapshot();
    const walk = snapshot.entries("jobs")[Symbol.iterator]();
    const seen = [walk.next().value];
    doc.apply(["put", "jobs", "a", { ...a, status: "processing" }]); // already written
    doc.apply(["put", "jobs", "b", { ...b, status: "processing" }]); // not yet: written as it was
    doc.apply(["del", "jobs", "c"]); // not yet: still written
    doc.apply(["del", "jobs", "d"]);
    doc.apply(["put", "jobs", "d", { ...d, status: "completed" }]); // removed and added again: once, as it was
    doc.apply(["put", "jobs", "e", e]); // new since: left out
    for (let next = walk.next(); !next.done; next = walk.next()) seen.push(next.value);
    snapshot.finish();

    expect(snapshot.journalSeq).toBe(4);
    expect(new Map(seen as [string, unknown][])).toEqual(new Map([["a", a], ["b", b], ["c", c], ["d", d]]));
    expect(seen).toHaveLength(4);
    expect(doc.get("jobs", "c")).toBeUndefined();
    expect(doc.get("jobs", "e")).toEqual(e);
  });
});
