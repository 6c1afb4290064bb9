import { getEventListeners } from "node:events";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { AbortError, TranscriptionTimeoutError } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, collect, fastProvider, freePort, harness, itOnFiles, rejection, until } from "./helpers.js";
import { type ResultProxy, startResultProxy } from "./result-proxy.js";
import { linkSignals } from "../src/shared/linked-signal.js";

let h: Harness;
afterEach(async () => h?.cleanup());

/** A loopback URL nothing listens on: webhooks sent there are lost. */
async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

describe("deadline", () => {
  it("asks the provider once, rejects with the job id, and a late webhook still resolves client.job(id)", async () => {
    h = await harness({ dev: { processingDelayMs: 400 } });
    // Started first: the deadline counts from the call and includes opening the store (slower on
    // PostgreSQL); these 100 ms are for the job.
    await h.client.start();
    const job = h.client.transcribe("https://audio.example/slow.wav", { timeoutMs: 100 });
    const error = await rejection(job);
    expect(error).toBeInstanceOf(TranscriptionTimeoutError);
    const jobId = (error as TranscriptionTimeoutError).jobId;
    expect(jobId).toBe(job.jobId);
    expect((error as Error).message).toContain("processing");
    expect(h.dev.stats.statusFetches).toBe(1);

    const late = await h.client.job(jobId!);
    expect(late.text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.statusFetches).toBe(1);
  });

  it("resolves from the one status check when the provider finished but its webhook was lost", async () => {
    h = await harness({ dev: { processingDelayMs: 10, retryDelaysMs: [] }, client: { receiver: { port: 0, publicUrl: await deadUrl() } } });
    const events: string[] = [];
    h.client.on("transcript", (t) => events.push(t.jobId));
    const transcript = await h.client.transcribe("https://audio.example/lost.wav", { timeoutMs: 200 });
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.statusFetches).toBe(1);
    // The handle settles from the status check; the stored answer is announced by the worker just after.
    await until(() => events.length > 0);
    expect(events).toEqual([transcript.jobId]);
  });

  it("uses the client's timeoutMs by default and 0 waits without a deadline", async () => {
    h = await harness({ dev: { processingDelayMs: 150 }, client: { timeoutMs: 50 } });
    await expect(h.client.transcribe("https://audio.example/a.wav")).rejects.toBeInstanceOf(TranscriptionTimeoutError);
    const transcript = await h.client.transcribe("https://audio.example/b.wav", { timeoutMs: 0 });
    expect(transcript.text).toBe(SAMPLE_TEXT);
  });
});

describe("abort", () => {
  it("an abort during the submit cancels the request and its retries", async () => {
    h = await harness({ dev: { faults: { failFirstSubmits: 10 } } });
    const client = h.restart({ provider: fastProvider(h.dev, { retry: { limit: 5, minDelayMs: 300, maxDelayMs: 300 } }) });
    const controller = new AbortController();
    const job = client.transcribe("https://audio.example/abort.wav", { signal: controller.signal });
    await until(() => h.dev.stats.submits === 1);
    controller.abort();
    const error = await rejection(job);
    expect((error as Error).name).toBe("AbortError");
    expect(error).toBeInstanceOf(AbortError);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.dev.stats.submits).toBe(1);
  });

  it("cancel() stops waiting; the job is kept and a later handle gets the transcript", async () => {
    h = await harness({ dev: { processingDelayMs: 100 } });
    const job = h.client.transcribe("https://audio.example/cancel.wav");
    const jobId = await job.submitted;
    job.cancel();
    const error = await rejection(job);
    expect((error as Error).name).toBe("AbortError");
    expect((error as AbortError).jobId).toBe(jobId);
    expect((await h.client.job(jobId)).text).toBe(SAMPLE_TEXT);
  });

  it("an already aborted signal rejects without submitting", async () => {
    h = await harness();
    const error = await rejection(h.client.transcribe("https://audio.example/x.wav", { signal: AbortSignal.abort() }));
    expect((error as Error).name).toBe("AbortError");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.dev.stats.submits).toBe(0);
  });

  it("pending handles reject with an AbortError when the client closes", async () => {
    h = await harness({ dev: { processingDelayMs: 60_000 } });
    const job = h.client.transcribe("https://audio.example/closing.wav");
    const jobId = await job.submitted;
    await h.client.close();
    const error = await rejection(job);
    expect((error as Error).name).toBe("AbortError");
    expect((error as AbortError).jobId).toBe(jobId);
    expect((error as Error).message).toContain("closed");
  });

  it("a failing job nobody awaits causes no unhandled rejection", async () => {
    h = await harness({ dev: { faults: { errorResult: true } } });
    const jobId = await h.client.transcribe("https://audio.example/ignored.wav").submitted;
    await until(() => h.dev.jobs()[0]?.status === "error");
    await until(async () => (await h.client.inspect(jobId)).processed);
    // vitest fails the run on an unhandled rejection; give one a chance to surface.
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
});

/**
 * What a signal still holds of the operations it guarded: its abort listeners, and the signals
 * `AbortSignal.any` made from it (Node keeps those under an internal symbol, never pruned on Node
 * 20 while the signal lives). Both must be 0 once the operations are over.
 */
function tracesOn(signal: AbortSignal): number {
  const dependants = Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === "kDependantSignals");
  const kept = dependants === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[dependants];
  return getEventListeners(signal, "abort").length + (kept?.size ?? 0);
}

describe("a long-lived signal keeps nothing of the work it guarded", () => {
  it("a caller's signal passed to many transcribe() calls, once they resolved", async () => {
    h = await harness();
    const appLifetime = new AbortController();
    for (let i = 0; i < 20; i++) {
      const transcript = await h.client.transcribe(`https://audio.example/${i}.wav`, { signal: appLifetime.signal });
      expect(transcript.text).toBe(SAMPLE_TEXT);
    }
    expect(tracesOn(appLifetime.signal)).toBe(0);
  });

  it("many jobs at once on one signal: no listener-leak warning, and its abort ends every one of them", async () => {
    // Jobs that outlast the test: every handle is still waiting when the signal aborts.
    h = await harness({ dev: { processingDelayMs: 60_000 } });
    await h.client.start();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      const shared = new AbortController();
      const jobs = Array.from({ length: 30 }, (_, i) => h.client.transcribe(`https://audio.example/many-${i}.wav`, { signal: shared.signal }));
      await until(() => h.dev.stats.submits === 30);
      shared.abort(new Error("the request that wanted them is gone"));
      const errors = await Promise.all(jobs.map((job) => rejection(job)));
      expect(errors.every((error) => error instanceof AbortError)).toBe(true);
      // Node emits its warnings on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
      expect(tracesOn(shared.signal)).toBe(0);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("a signal unlinked while its source's abort is told to the others stays as it is", () => {
    const source = new AbortController();
    const first = linkSignals(source.signal);
    const second = linkSignals(source.signal);
    first.signal.addEventListener("abort", () => second.unlink());
    source.abort(new Error("shutting down"));
    expect(first.signal.reason).toEqual(new Error("shutting down"));
    expect(second.signal.aborted).toBe(false);
    expect(tracesOn(source.signal)).toBe(0);
  });

  it("a signal passed to many result fetches, once they answered", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const jobId = (await h.client.transcribe("https://audio.example/fetched.wav")).jobId;
    const provider = fastProvider(h.dev);
    const appLifetime = new AbortController();
    for (let i = 0; i < 20; i++) {
      const fetched = await provider.fetchResult!(jobId, { signal: appLifetime.signal, retry: false });
      expect(fetched.result?.text).toBe(SAMPLE_TEXT);
    }
    expect(tracesOn(appLifetime.signal)).toBe(0);
  });
});

describe("review regressions", () => {
  it("at the deadline, a job finished at the provider resolves even while its processing is dead-lettered", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const base = fastProvider(h.dev);
    let fetches = 0;
    const client = h.restart({
      provider: { ...base, fetchResult: (jobId, options) => (++fetches === 1 ? Promise.reject(new Error("result endpoint down")) : base.fetchResult!(jobId, options)) },
      retry: { attempts: 1, minDelayMs: 5, maxDelayMs: 5 },
    });
    const job = client.transcribe("https://audio.example/dead-lettered.wav", { timeoutMs: 300 });
    await until(async () => (await client.deadLetters()).length === 1);
    expect((await job).text).toBe(SAMPLE_TEXT);
    expect(fetches).toBe(2);
  });

  it("at the deadline, a result fetch that lagged the webhook (answered 'processing') does not strand the job", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const base = fastProvider(h.dev);
    let fetches = 0;
    const client = h.restart({
      provider: {
        ...base,
        fetchResult: async (jobId, options) => {
          const real = await base.fetchResult!(jobId, options);
          return ++fetches === 1 ? { ...real, status: "processing", result: undefined } : real;
        },
      },
      retry: { attempts: 2, minDelayMs: 5, maxDelayMs: 5 },
    });
    const job = client.transcribe("https://audio.example/lagging-result.wav", { timeoutMs: 400 });
    expect((await job).text).toBe(SAMPLE_TEXT);
    expect(await client.deadLetters()).toEqual([]);
  });

  // The failure is made on the file system (the transcripts folder becomes a file).
  itOnFiles("a full result whose transcript cannot be written is answered 503, changes nothing, and its redelivery stores it once the store can write", async () => {
    h = await harness({ dev: { retryDelaysMs: [50, 100, 200, 400, 800, 1600] } });
    await h.client.start();
    const events = collect(h.client);
    const transcripts = `${h.storePath}.transcripts`;
    await rm(transcripts, { recursive: true });
    await writeFile(transcripts, "a file where the transcripts folder should be");
    const job = h.client.transcribe("https://audio.example/unstorable.wav");
    const jobId = await job.submitted;
    await until(() => (h.dev.job(jobId)?.deliveries.completed?.attempts ?? 0) >= 2);
    expect(h.dev.job(jobId)?.deliveries.completed?.state).toBe("pending");
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "processing", processed: false });
    await rm(transcripts);
    await mkdir(transcripts);
    expect((await job).text).toBe(SAMPLE_TEXT);
    await until(() => h.dev.job(jobId)?.deliveries.completed?.state === "delivered");
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "completed", processed: true });
    expect(await h.client.deadLetters()).toEqual([]);
    expect(events.map((t) => t.jobId)).toEqual([jobId]);
  });

  it("at the deadline, a result fetch still in flight does not keep the status check's answer from settling the job", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const base = fastProvider(h.dev);
    let fetches = 0;
    const client = h.restart({
      provider: {
        ...base,
        fetchResult: async (jobId, options) => {
          if (++fetches === 1) {
            await new Promise((resolve) => setTimeout(resolve, 700));
            throw new Error("result endpoint timed out");
          }
          return base.fetchResult!(jobId, options);
        },
      },
      retry: { attempts: 1, minDelayMs: 5, maxDelayMs: 5 },
    });
    const job = client.transcribe("https://audio.example/in-flight.wav", { timeoutMs: 300 });
    expect((await job).text).toBe(SAMPLE_TEXT);
    await until(async () => (await client.inspect(job.jobId!)).processed);
    expect(await client.deadLetters()).toEqual([]);
  });

  it("close() ends a result fetch that hangs instead of waiting for it; the delivery stays for the next start", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const base = fastProvider(h.dev);
    let fetching = false;
    const client = h.restart({
      provider: {
        ...base,
        // A provider that never answers, but gives up when told to.
        fetchResult: (_jobId, options) =>
          new Promise((_, reject) => {
            fetching = true;
            options?.signal?.addEventListener("abort", () => reject(options.signal!.reason), { once: true });
          }),
      },
    });
    const job = client.transcribe("https://audio.example/hanging-fetch.wav");
    const jobId = await job.submitted;
    await until(() => fetching);
    await client.close();
    expect((await rejection(job)).name).toBe("AbortError");
    // The next start processes it with a provider that answers.
    const next = h.restart();
    expect((await next.job(jobId)).text).toBe(SAMPLE_TEXT);
  });

  it("close() during a submit aborts it and rejects the handle with an AbortError", async () => {
    h = await harness({ dev: { faults: { failFirstSubmits: 10 } } });
    const client = h.restart({ provider: fastProvider(h.dev, { retry: { limit: 5, minDelayMs: 300, maxDelayMs: 300 } }) });
    const job = client.transcribe("https://audio.example/closing-submit.wav");
    await until(() => h.dev.stats.submits === 1);
    await client.close();
    const error = await rejection(job);
    expect(error.name).toBe("AbortError");
    expect(error.message).toContain("closed");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.dev.stats.submits).toBe(1);
  });

  it("a thin webhook whose fetched result is an error ends the job as an error", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const base = fastProvider(h.dev);
    const client = h.restart({
      provider: {
        ...base,
        fetchResult: async (jobId, options) => ({ ...(await base.fetchResult!(jobId, options)), status: "error", error: "audio unreadable", result: undefined }),
      },
    });
    const job = client.transcribe("https://audio.example/fetched-error.wav");
    const error = await rejection(job);
    expect(error.message).toContain("audio unreadable");
    expect(await client.inspect(job.jobId!)).toMatchObject({ status: "error", processed: true, error: "audio unreadable" });
    await expect(client.job(job.jobId!)).rejects.toThrow("audio unreadable");
  });
});

describe("the deadline's status check is one request", () => {
  let proxy: ResultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  async function deadlineAgainst(answer: Parameters<ResultProxy["answerResults"]>[0]): Promise<Error> {
    h = await harness({ dev: { processingDelayMs: 60_000 } });
    proxy = await startResultProxy(h.dev.url);
    proxy.answerResults(answer);
    const client = h.restart({ provider: fastProvider(h.dev, { baseUrl: proxy.url, requestTimeoutMs: 100, retry: { limit: 4, minDelayMs: 5, maxDelayMs: 10 } }) });
    // Started first: the deadline counts from the call and includes opening the store (slower on
    // PostgreSQL); these 100 ms are for the job.
    await client.start();
    return rejection(client.transcribe("https://audio.example/deadline.wav", { timeoutMs: 100 }));
  }

  it("a failing answer is not retried", async () => {
    const error = await deadlineAgainst({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "busy" }) });
    expect(error).toBeInstanceOf(TranscriptionTimeoutError);
    expect(error.message).toMatch(/status check failed.*HTTP 503/);
    expect(proxy!.resultFetches()).toBe(1);
  });

  it("no answer ends at the request timeout, not retried", async () => {
    const error = await deadlineAgainst("never");
    expect(error).toBeInstanceOf(TranscriptionTimeoutError);
    expect(proxy!.resultFetches()).toBe(1);
  });

  it("an answer that is not JSON is named by its size, never quoted", async () => {
    const error = await deadlineAgainst({ status: 200, contentType: "text/plain", body: "Secret call, word for word" });
    expect(error).toBeInstanceOf(TranscriptionTimeoutError);
    expect(error.message).toMatch(/not JSON, 26 bytes/);
    expect(error.message).not.toContain("Secret");
    for (const entry of h.logs) expect(JSON.stringify(entry)).not.toContain("Secret");
  });
});
