import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type Provider, StoreError, type Transcript } from "hookscribe";
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { fixedTextEngine } from "../src/dev/fixed-text-engine.js";
import { FileJobStore, type FileJobStoreOptions } from "../src/store/file-job-store.js";
import type { StatusChange } from "../src/store/job-store.js";
import type { JobRecord } from "../src/store/records.js";
import { type Harness, countRefusedTranscriptWrites, fastProvider, harness, rejection, tempDir, until } from "./helpers.js";

/*
 * The store when the disk fails under it: a full filesystem (a small tmpfs, which needs root:
 * CI runs the suite as root) and a store folder removed while the store runs. What is checked is
 * what a provider and a restarted process would see: the answer to each write, the files on
 * disk, and a second store opened on the same path without closing the first (a crash).
 */

const tmpfsUnavailable = await whyNoTmpfs();
const onTmpfs = it.skipIf(tmpfsUnavailable !== undefined);
const tmpfsTitle = (title: string) => (tmpfsUnavailable === undefined ? title : `${title} (skipped: ${tmpfsUnavailable})`);

/** Why a tmpfs cannot be mounted here, or `undefined` when it can. */
async function whyNoTmpfs(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not running as root, and mounting a tmpfs needs root (CI runs as root)";
  const probe = await tempDir();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return `mounting a tmpfs failed: ${(error as Error).message.split("\n")[0]}`;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

let mountPoint: string | undefined;
let dir: string;
let storePath: string;
const stores: FileJobStore[] = [];
let h: Harness | undefined;

/** A small filesystem of its own for this test's store, so it can be filled up. */
async function mountTmpfs(size: string): Promise<string> {
  mountPoint = await tempDir();
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mountPoint], { stdio: "pipe" });
  return mountPoint;
}

beforeEach(async () => {
  // lowdb's presets switch to memory under NODE_ENV=test; this store must not.
  vi.stubEnv("NODE_ENV", "test");
  dir = await tempDir();
  storePath = join(dir, "state", "store.json");
});

afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await h?.cleanup().catch(() => undefined);
  h = undefined;
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  if (mountPoint) {
    try {
      execFileSync("umount", [mountPoint], { stdio: "pipe" });
    } catch {
      execFileSync("umount", ["-l", mountPoint], { stdio: "pipe" });
    }
    await rm(mountPoint, { recursive: true, force: true });
    mountPoint = undefined;
  }
  await rm(dir, { recursive: true, force: true });
});

async function openStore(path = storePath, options: Partial<FileJobStoreOptions> = {}): Promise<FileJobStore> {
  const store = new FileJobStore({ path, compactDelayMs: 60_000, probeIntervalMs: 10, ...options });
  stores.push(store);
  await store.open();
  return store;
}

function jobRecord(ref: string, overrides: Partial<JobRecord> = {}): JobRecord {
  const now = Date.now();
  return { ref, provider: "generic", jobId: `job_${ref}`, status: "queued", tokenHash: `hash_${ref}`, createdAt: now, updatedAt: now, processed: false, ...overrides };
}

/** The provider's `completed` webhook of `job`, as the receiver hands it to the store. */
function completedChange(job: JobRecord, overrides: Partial<StatusChange> = {}): StatusChange {
  return { jobId: job.jobId!, status: "completed", at: Date.now(), event: { jobId: job.jobId!, status: "completed", raw: {} }, ...overrides };
}

/** The refs of every job the store lists, sorted. */
async function listedRefs(store: FileJobStore): Promise<string[]> {
  return (await store.listJobs({ limit: 1000 })).map((job) => job.ref).sort();
}

/** Fills the filesystem at `root` up to `leaveBytes` free (in whole pages); returns the ballast file. */
async function fillDisk(root: string, leaveBytes: number): Promise<string> {
  const ballast = join(root, "ballast");
  const handle = await open(ballast, "a");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      const { bytesWritten } = await handle.write(chunk);
      if (bytesWritten < chunk.length) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  }
  const { size } = await handle.stat();
  await handle.truncate(Math.max(0, size - leaveBytes));
  await handle.close();
  return ballast;
}

async function journalFiles(path: string): Promise<string[]> {
  return (await readdir(`${path}.journal`)).sort();
}

/** The journal as a restarted process reads it: every line must be whole. */
async function journalText(path: string): Promise<string> {
  let text = "";
  for (const name of await journalFiles(path)) text += await readFile(join(`${path}.journal`, name), "utf8");
  return text;
}

describe(tmpfsTitle("FileJobStore on a full disk"), () => {
  onTmpfs("refuses a write the disk took only in part, leaves no torn line, and keeps every acked write across a crash", async () => {
    const path = join(await mountTmpfs("2m"), "state", "store.json");
    const store = await openStore(path);
    await store.createJob(jobRecord("a1"));
    const ballast = await fillDisk(mountPoint!, 8 * 1024);

    // 64 KiB does not fit in 8 KiB: the file system writes what fits and reports a short write.
    const big = jobRecord("big", { error: "x".repeat(64 * 1024) });
    const error = await rejection(store.createJob(big));
    expect(error).toBeInstanceOf(StoreError);
    expect(store.healthy()).toBe(false);
    // Nothing of the refused write stays: not in memory, not as a partial line on disk.
    expect(await store.job("big")).toBeUndefined();
    expect(await listedRefs(store)).toEqual(["a1"]);
    const text = await journalText(path);
    expect(text.endsWith("\n")).toBe(true);
    for (const line of text.split("\n").filter((line) => line !== "")) expect(() => JSON.parse(line)).not.toThrow();

    await unlink(ballast);
    await store.whenHealthy();
    expect(store.healthy()).toBe(true);
    await store.createJob(jobRecord("a2"));

    const restarted = await openStore(path);
    expect(await listedRefs(restarted)).toEqual(["a1", "a2"]);
  });

  onTmpfs("while the disk stays full, refused writes leave no file behind and change nothing the store answers", async () => {
    const path = join(await mountTmpfs("2m"), "state", "store.json");
    const store = await openStore(path);
    const job = jobRecord("a1");
    await store.createJob(job);
    const filesBefore = await journalFiles(path);
    const ballast = await fillDisk(mountPoint!, 0);

    // The provider's error webhook, with a message too long for what the disk has left.
    const failure = "y".repeat(16 * 1024);
    const change = (at: number): StatusChange => completedChange(job, { status: "error", error: failure, at, event: { jobId: job.jobId!, status: "error", error: failure, raw: {} } });
    // The first attempt reaches the journal and fails there; job() asked meanwhile answers once it failed, with the job as it was.
    const firstAttempt = store.changeStatus("a1", change(Date.now()));
    const duringFirst = store.job("a1");
    await expect(firstAttempt).rejects.toBeInstanceOf(StoreError);
    expect(await duringFirst).toEqual(job);
    for (let attempt = 1; attempt < 30; attempt++) {
      await expect(store.changeStatus("a1", change(Date.now()))).rejects.toBeInstanceOf(StoreError);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await journalFiles(path)).toEqual(filesBefore);
    expect((await readdir(join(mountPoint!, "state"))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    expect(await store.job("a1")).toEqual(job);
    expect(await store.pendingDelivery("a1")).toBeUndefined();
    expect(store.unprocessedCount()).toBe(0);
    expect(store.healthy()).toBe(false);

    await unlink(ballast);
    await store.whenHealthy();
    const after = change(Date.now());
    const result = await store.changeStatus("a1", after);
    expect(result).toMatchObject({ outcome: "advanced", deliveryId: expect.any(String) });
    const done: JobRecord = { ...job, status: "error", error: failure, updatedAt: after.at, finishedAt: after.at };
    const restarted = await openStore(path);
    expect(await restarted.job("a1")).toEqual(done);
    // Only the delivery of the write that was acked exists.
    expect((await restarted.takeOver()).map((delivery) => delivery.id)).toEqual([(result as { deliveryId: string }).deliveryId]);
  });
});

describe(tmpfsTitle("FileJobStore's transcript log on a full disk"), () => {
  onTmpfs("a transcript the disk takes only in part completes nothing, leaves no segment behind, and is stored whole once there is room", async () => {
    const path = join(await mountTmpfs("2m"), "state", "store.json");
    const store = await openStore(path);
    const job = jobRecord("a1");
    await store.createJob(job);
    const { deliveryId } = (await store.changeStatus("a1", completedChange(job))) as { deliveryId: string };
    const ballast = await fillDisk(mountPoint!, 8 * 1024);

    // 64 KiB of words does not fit in what is left: the log's write is short and fails.
    const transcript: Transcript = { jobId: job.jobId!, provider: "generic", status: "completed", text: "z".repeat(64 * 1024), words: [], raw: {} };
    await expect(store.completeDelivery(deliveryId, { kind: "completed", transcript }, Date.now())).rejects.toBeInstanceOf(StoreError);
    expect(store.healthy()).toBe(false);
    expect(await store.job("a1")).toMatchObject({ processed: false });
    expect((await store.pendingDelivery("a1"))?.id).toBe(deliveryId);
    // (The store's health probe writes and removes a file of its own there meanwhile.)
    expect((await readdir(`${path}.transcripts`)).filter((name) => name !== ".probe")).toEqual([]);

    await unlink(ballast);
    await store.whenHealthy();
    expect(await store.completeDelivery(deliveryId, { kind: "completed", transcript }, Date.now())).toBe(true);
    const restarted = await openStore(path);
    expect(await restarted.job("a1")).toMatchObject({ processed: true });
    expect(await restarted.readTranscript("a1")).toEqual(transcript);
  });
});

describe("FileJobStore when its folder is removed", () => {
  it("refuses writes (never into the removed files), waits for the folder, then rewrites everything acked and goes on", async () => {
    const store = await openStore();
    const a1 = jobRecord("a1");
    await store.createJob(a1);
    await rm(join(dir, "state"), { recursive: true });

    await expect(store.createJob(jobRecord("a2"))).rejects.toBeInstanceOf(StoreError);
    expect(store.healthy()).toBe(false);
    await expect(store.createJob(jobRecord("a3"))).rejects.toBeInstanceOf(StoreError);
    // Several probes later: the store does not recreate a folder someone removed.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(existsSync(join(dir, "state"))).toBe(false);

    await mkdir(join(dir, "state"));
    await store.whenHealthy();
    // What was acked before the folder went is on disk again, without a restart.
    expect(Object.keys(JSON.parse(await readFile(storePath, "utf8")).jobs)).toEqual(["a1"]);
    await store.createJob(jobRecord("a4"));

    const restarted = await openStore();
    expect(await listedRefs(restarted)).toEqual(["a1", "a4"]);
    expect(await restarted.job("a1")).toEqual(a1);
  });
});

/** A long transcript, so a delivery's journal entry cannot fit in what a full disk has left. */
const LONG_TEXT = Array.from({ length: 2000 }, (_, index) => `word${index}`).join(" ");

describe(tmpfsTitle("a client whose store fails for a while"), () => {
  onTmpfs("a delivery refused while the disk is full is not shown as done, and the provider's retry after recovery finishes the job", async () => {
    const root = await mountTmpfs("4m");
    h = await harness({
      dir: join(root, "client"),
      dev: { engine: fixedTextEngine(LONG_TEXT), sendProcessingWebhook: false, processingDelayMs: 300, retryDelaysMs: [100, 200, 200, 200, 200, 200, 200, 200, 200, 200] },
    });
    const transcripts: Transcript[] = [];
    h.client.on("transcript", (t) => transcripts.push(t));
    const job = h.client.transcribe("https://audio.example/full-disk.wav");
    const jobId = await job.submitted;
    await until(() => job.status === "queued");
    const ballast = await fillDisk(root, 0);

    const answered = await firstAnswer(jobId);
    expect(answered).toMatchObject({ state: "pending", lastError: expect.stringMatching(/503/) });
    // The 503 left the job as the disk has it.
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "queued", processed: false });

    await unlink(ballast);
    expect((await within(job, 5000)).text).toBe(LONG_TEXT);
    expect(await h.client.deadLetters()).toEqual([]);
    expect(transcripts.map((t) => t.jobId)).toEqual([jobId]);
  });

  onTmpfs("processing that failed because the store could not write is retried once it can, never dead-lettered", async () => {
    const root = await mountTmpfs("4m");
    h = await harness({ dir: join(root, "client"), dev: { engine: fixedTextEngine(LONG_TEXT), faults: { thinPayloads: true } } });
    // The result fetch waits at a gate, so the disk fills up between the ack and the transcript write.
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // However the test ends, close() must not wait for a fetch held at the gate.
    onTestFinished(() => open());
    const real = fastProvider(h.dev);
    const provider: Provider = {
      ...real,
      fetchResult: async (jobId, options) => {
        reached();
        await gate;
        return real.fetchResult!(jobId, options);
      },
    };
    const refusedTranscripts = countRefusedTranscriptWrites();
    const client = h.restart({ provider, retry: { attempts: 1, minDelayMs: 5, maxDelayMs: 10 } });
    const job = client.transcribe("https://audio.example/thin.wav");
    const jobId = await job.submitted;
    await atGate;
    expect(await firstAnswer(jobId)).toMatchObject({ state: "delivered" });
    const ballast = await fillDisk(root, 0);
    open();

    // The one attempt allowed failed on the store; with a healthy store that would be a dead letter.
    await until(() => refusedTranscripts() > 0);
    await unlink(ballast);
    expect((await within(job, 5000)).text).toBe(LONG_TEXT);
    expect(await client.deadLetters()).toEqual([]);
  });
});

/** The emulator's `completed` webhook of `jobId` once its first attempt was answered (or failed). */
async function firstAnswer(jobId: string): Promise<{ state: string; lastError?: string }> {
  const completed = () => h!.dev.job(jobId)?.deliveries.completed;
  await until(() => completed() !== undefined && (completed()!.state !== "pending" || completed()!.lastError !== undefined));
  return completed()!;
}


/** `promise`, or a rejection once `ms` passed without it settling. */
function within<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

describe("a client whose store folder is removed", () => {
  it("answers 503 while the folder is gone and finishes the job from the provider's retry once it is back", async () => {
    h = await harness({ dev: { sendProcessingWebhook: false, processingDelayMs: 200, retryDelaysMs: [100, 200, 200, 200, 200, 200, 200, 200, 200, 200] } });
    const job = h.client.transcribe("https://audio.example/removed.wav");
    const jobId = await job.submitted;
    await until(() => job.status === "queued");
    await rm(h.dir, { recursive: true });

    expect(await firstAnswer(jobId)).toMatchObject({ state: "pending", lastError: expect.stringMatching(/503/) });
    await mkdir(h.dir);
    const transcript = await within(job, 5000);
    await h.client.close();

    // Everything needed to answer job(id) after a restart was written again.
    const restarted = h.restart();
    expect(await restarted.job(jobId)).toEqual(transcript);
  });
});
