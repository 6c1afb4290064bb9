import { spawn } from "node:child_process";
import { once } from "node:events";
import { rm, writeFile } from "node:fs/promises";
import { type Provider, StoreError, TranscriptionError, UnknownJobError } from "hookscribe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FileJobStore } from "../src/store/file-job-store.js";
import { PostgresJobStore } from "../src/store/postgres/postgres-job-store.js";
import { type Harness, type StoredState, SAMPLE_TEXT, TEST_STORE, collect, countRefusedTranscriptWrites, fastProvider, freePort, harness, itOnFiles, until } from "./helpers.js";

/*
 * Process restarts, end to end: client A and client B share one store (and, where webhooks must
 * reach B, one port: the webhook URL the provider holds names it), as two process lifetimes would.
 */

let h: Harness;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.cleanup();
});

/** What the store holds, as a restarted process finds it; read after the client closed. */
function stored(): Promise<StoredState> {
  return h.stored();
}

function jobOf(state: StoredState, jobId: string) {
  return Object.values(state.jobs).find((job) => job.jobId === jobId);
}

/** The emulator's provider, except that fetching a result always fails (an outage of its result API). */
function providerWithoutResults(dev: Harness["dev"]): { provider: Provider; fetches: () => number } {
  const real = fastProvider(dev);
  let fetches = 0;
  return {
    provider: {
      ...real,
      fetchResult: async () => {
        fetches++;
        throw new Error("result API unavailable");
      },
    },
    fetches: () => fetches,
  };
}

function settle<T>(promise: PromiseLike<T>): Promise<{ value?: T; error?: unknown }> {
  return Promise.resolve(promise).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe("restarts", () => {
  it("a webhook that failed while no process listened resolves client B's job(id), announced once", async () => {
    const port = await freePort();
    h = await harness({
      dev: { processingDelayMs: 300, retryDelaysMs: [50, 100, 200, 400, 800] },
      client: { receiver: { port } },
    });
    const a = h.client;
    const aEvents = collect(a);
    const jobA = a.transcribe("https://audio.example/restart.wav");
    const jobId = await jobA.submitted;
    // A hears "processing", then stops before the job finishes.
    await until(() => h.dev.job(jobId)?.deliveries.processing?.state === "delivered");
    await a.close();
    expect(((await settle(jobA)).error as Error).name).toBe("AbortError");
    expect(h.dev.job(jobId)!.status).toBe("processing");

    // The provider tries, nothing listens, it will retry.
    await until(() => h.dev.job(jobId)?.deliveries.completed?.lastError !== undefined);
    expect(h.dev.job(jobId)!.deliveries.completed!.state).toBe("pending");
    expect(jobOf(await stored(), jobId)).toMatchObject({ processed: false });

    const b = h.restart();
    const bEvents = collect(b);
    await b.start();
    expect(b.receiverUrl).toBe(`http://127.0.0.1:${port}`);
    const transcript = await b.job(jobId);
    expect(transcript).toMatchObject({ jobId, text: SAMPLE_TEXT, status: "completed" });
    await until(() => h.dev.job(jobId)!.deliveries.completed!.state === "delivered");
    expect(h.dev.job(jobId)!.deliveries.completed!.attempts).toBeGreaterThan(1);
    await b.close();
    expect(bEvents.map((t) => t.jobId)).toEqual([jobId]);
    expect(aEvents).toEqual([]);
    expect(jobOf(await stored(), jobId)).toMatchObject({ status: "completed", processed: true });
    expect(h.dev.stats.statusFetches).toBe(0);

    // A third lifetime gets the same webhook again: acked, nothing announced, job(id) from the store.
    const c = h.restart();
    const cEvents = collect(c);
    await c.start();
    await h.dev.redeliver(jobId);
    expect(h.dev.job(jobId)!.deliveries.completed!.state).toBe("delivered");
    expect(await c.job(jobId)).toEqual(transcript);
    await c.close();
    expect(cEvents).toEqual([]);
    expect(Object.keys((await stored()).inbox)).toEqual([]);
  });

  it("a delivery acked and stored but not processed before A stopped is processed on B's start(), announced once", async () => {
    const port = await freePort();
    h = await harness({ dev: { faults: { thinPayloads: true } }, client: { receiver: { port } } });
    const broken = providerWithoutResults(h.dev);
    const a = h.restart({ provider: broken.provider, retry: { attempts: 1000, minDelayMs: 5, maxDelayMs: 10 } });
    const aEvents = collect(a);
    const jobA = a.transcribe("https://audio.example/thin.wav");
    const jobId = await jobA.submitted;

    // Acked (the emulator saw a 2xx), and the worker keeps failing to fetch the result.
    await until(() => h.dev.job(jobId)?.deliveries.completed?.state === "delivered" && broken.fetches() >= 2);
    await a.close();
    expect(((await settle(jobA)).error as Error).name).toBe("AbortError");
    expect(aEvents).toEqual([]);

    const left = await stored();
    expect(jobOf(left, jobId)).toMatchObject({ status: "completed", processed: false });
    expect(Object.values(left.inbox)).toMatchObject([{ jobId, event: { status: "completed" } }]);
    expect(left.deadLetters).toEqual({});

    const b = h.restart();
    const bEvents = collect(b);
    await b.start();
    const transcript = await b.job(jobId);
    expect(transcript).toMatchObject({ jobId, text: SAMPLE_TEXT });
    await until(() => bEvents.length === 1);
    await b.close();
    expect(bEvents.map((t) => t.jobId)).toEqual([jobId]);
    expect(h.dev.stats.statusFetches).toBe(1);

    const done = await stored();
    expect(jobOf(done, jobId)).toMatchObject({ processed: true });
    expect(done.inbox).toEqual({});
  });

  it("job(id) after a restart answers from the store: a transcript, a TranscriptionError, an UnknownJobError", async () => {
    h = await harness({ dev: { faults: { errorResult: (url) => url.includes("broken") } } });
    const ok = await h.client.transcribe("https://audio.example/fine.wav");
    const failing = h.client.transcribe("https://audio.example/broken.wav");
    await expect(failing).rejects.toBeInstanceOf(TranscriptionError);
    const failedId = failing.jobId!;
    await h.client.close();

    const b = h.restart();
    await b.start();
    const requests = h.dev.stats.requests;

    const finished = b.job(ok.jobId);
    expect(await finished).toEqual(ok);
    expect(finished.status).toBe("completed");

    const failed = await settle(b.job(failedId));
    expect(failed.error).toBeInstanceOf(TranscriptionError);
    expect((failed.error as TranscriptionError).jobId).toBe(failedId);

    const unknown = await settle(b.job("no-such-job"));
    expect(unknown.error).toBeInstanceOf(UnknownJobError);
    expect((unknown.error as UnknownJobError).jobId).toBe("no-such-job");
    expect((unknown.error as Error).message).toContain(h.location);

    expect(h.dev.stats.requests).toBe(requests);
  });

  it("a dead letter survives the restart, is not processed by itself, and replay(id) on B resolves job(id)", async () => {
    const port = await freePort();
    h = await harness({ dev: { faults: { thinPayloads: true } }, client: { receiver: { port } } });
    const broken = providerWithoutResults(h.dev);
    const a = h.restart({ provider: broken.provider, retry: { attempts: 2, minDelayMs: 5, maxDelayMs: 10 } });
    const aEvents = collect(a);
    const jobA = a.transcribe("https://audio.example/dead.wav");
    const jobId = await jobA.submitted;

    await until(async () => (await a.deadLetters()).length === 1);
    const [letter] = await a.deadLetters();
    expect(letter).toMatchObject({ jobId, attempts: 2 });
    expect(letter!.error).toContain("result API unavailable");
    expect(broken.fetches()).toBe(2);
    await a.close();
    expect(((await settle(jobA)).error as Error).name).toBe("AbortError");

    const b = h.restart();
    const bEvents = collect(b);
    await b.start();
    expect(await b.deadLetters()).toEqual([letter]);
    // Not picked up by itself: give the worker a moment to prove it leaves it alone.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.dev.stats.statusFetches).toBe(0);
    expect(bEvents).toEqual([]);
    expect(await b.deadLetters()).toHaveLength(1);

    const waiting = b.job(jobId);
    await b.replay(letter!.id);
    expect(await waiting).toMatchObject({ jobId, text: SAMPLE_TEXT });
    expect(await b.deadLetters()).toEqual([]);
    await expect(b.replay(letter!.id)).rejects.toThrow(/No dead letter/);
    await b.close();

    expect(bEvents.map((t) => t.jobId)).toEqual([jobId]);
    expect(aEvents).toEqual([]);
    expect(h.dev.stats.statusFetches).toBe(1);
    const state = await stored();
    expect(state.deadLetters).toEqual({});
    expect(state.inbox).toEqual({});
    expect(jobOf(state, jobId)).toMatchObject({ processed: true });
  });
});

describe("a store that could not write", () => {
  // The failure is made on the file system (the transcripts folder becomes a file).
  itOnFiles("leaves a delivery it failed to process for the next start instead of dead-lettering it, and B finishes the job", async () => {
    // Thin: its transcript is written by the worker after the ack (a full one is written with the ack).
    h = await harness({ dev: { faults: { thinPayloads: true } }, client: { retry: { attempts: 1, minDelayMs: 5, maxDelayMs: 5 } } });
    const refused = countRefusedTranscriptWrites();
    const a = h.client;
    await a.start();
    // The transcripts folder is a file now: the delivery is acked, its transcript cannot be written.
    const transcripts = `${h.storePath}.transcripts`;
    await rm(transcripts, { recursive: true });
    await writeFile(transcripts, "not a folder");
    const jobA = a.transcribe("https://audio.example/store-down.wav");
    const jobId = await jobA.submitted;
    await until(() => h.dev.job(jobId)?.deliveries.completed?.state === "delivered");
    // Its one attempt allowed has failed on the store (with a healthy store that is a dead letter).
    await until(() => refused() > 0);
    await a.close();
    expect(((await settle(jobA)).error as Error).name).toBe("AbortError");
    const left = await stored();
    expect(left.deadLetters).toEqual({});
    expect(jobOf(left, jobId)).toMatchObject({ status: "completed", processed: false });

    await rm(transcripts);
    const b = h.restart();
    const bEvents = collect(b);
    await b.start();
    expect(await b.job(jobId)).toMatchObject({ jobId, text: SAMPLE_TEXT });
    await b.close();
    expect(bEvents.map((t) => t.jobId)).toEqual([jobId]);
  });
});


/**
 * Runs test/fixtures/crashing-client.ts on the harness's emulator and store, kills it with SIGKILL
 * once the emulator saw the job's completed webhook acked, and returns the job's id.
 */
async function ackThenKill(h: Harness): Promise<string> {
  // One process (tsx as a loader, not its CLI, which would run the script in a grandchild).
  const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/crashing-client.ts"], {
    cwd: new URL("..", import.meta.url),
    // The child builds its store as the harness does: the same file, or the same schema.
    env: { ...process.env, DEV_URL: h.dev.url, DEV_API_KEY: h.dev.apiKey, DEV_SECRET: h.dev.webhookSecret, STORE_PATH: h.storePath, HOOKSCRIBE_TEST_STORE: TEST_STORE },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const jobId = line.toString().trim();
    await until(() => h.dev.job(jobId)?.deliveries.completed?.state === "delivered", 10_000);
    return jobId;
  } finally {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
}

describe("kill -9", () => {
  it("an acked delivery survives SIGKILL of the process that acked it", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    await ackThenKill(h);
    // The provider saw its 200 and will not send again; only the store can finish the job now.
    const events = collect(h.client);
    const [devJob] = h.dev.jobs();
    const transcript = await h.client.job(devJob!.jobId);
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(events.map((t) => t.jobId)).toEqual([devJob!.jobId]);
    expect(h.dev.stats.webhooksSent).toBe(2);
  });
});

describe("kill -9 after a full answer", () => {
  it("a completed delivery that carried its transcript was stored finished with its ack: it survives SIGKILL and needs no fetch", async () => {
    h = await harness();
    const jobId = await ackThenKill(h);
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "completed", processed: true });
    expect((await h.client.job(jobId)).text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.statusFetches).toBe(0);
  });
});

describe("a start() that fails part way", () => {
  it("leaves nothing running: the next start() listens on the same port and takes deliveries", async () => {
    const port = await freePort();
    h = await harness({ client: { receiver: { port } } });
    const Store = TEST_STORE === "json" ? FileJobStore : PostgresJobStore;
    // The last step of start(), after the receiver listens and the pruning ran.
    vi.spyOn(Store.prototype, "takeOver").mockRejectedValueOnce(new StoreError("test", "the store refused the first look for left deliveries"));
    await expect(h.client.start()).rejects.toThrow(/refused the first look/);
    const transcript = await h.client.transcribe("https://audio.example/after-a-failed-start.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(h.client.receiverUrl).toBe(`http://127.0.0.1:${port}`);
  });
});
