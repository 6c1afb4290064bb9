import type { Provider } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, fastProvider, harness, until } from "./helpers.js";
import { type ResultProxy, startResultProxy } from "./result-proxy.js";

let h: Harness;
afterEach(async () => h?.cleanup());

/** The reference provider, with a result endpoint that fails while `down` is true. */
function flakyResults(h: Harness): { provider: Provider; fetches: () => number; setDown: (down: boolean) => void } {
  const base = fastProvider(h.dev);
  let down = true;
  let fetches = 0;
  return {
    provider: {
      ...base,
      async fetchResult(jobId, options) {
        fetches++;
        if (down) throw new Error("result endpoint down");
        return base.fetchResult!(jobId, options);
      },
    },
    fetches: () => fetches,
    setDown: (value) => {
      down = value;
    },
  };
}

describe("worker retries and dead letters", () => {
  it("retries a failing step, dead-letters it, keeps the handle waiting, and a replay resolves it", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const flaky = flakyResults(h);
    const client = h.restart({ provider: flaky.provider, retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 10 } });
    const events: string[] = [];
    client.on("transcript", (t) => events.push(t.jobId));

    let settled = false;
    const job = client.transcribe("https://audio.example/flaky.wav");
    job.then(
      () => (settled = true),
      () => (settled = true),
    );
    const jobId = await job.submitted;
    await until(async () => (await client.deadLetters()).length === 1);
    const [letter] = await client.deadLetters();
    expect(letter).toMatchObject({ jobId, error: "result endpoint down", attempts: 3 });
    expect(letter!.failedAt).toBeInstanceOf(Date);
    expect(flaky.fetches()).toBe(3);
    expect(settled).toBe(false);

    // A replay that fails again keeps the dead letter and counts the attempt.
    await expect(client.replay(letter!.id)).rejects.toThrow("result endpoint down");
    expect(await client.deadLetters()).toMatchObject([{ id: letter!.id, attempts: 4 }]);

    flaky.setDown(false);
    await client.replay(letter!.id);
    expect((await job).text).toBe(SAMPLE_TEXT);
    expect(await client.deadLetters()).toEqual([]);
    expect(events).toEqual([jobId]);
    await expect(client.replay(letter!.id)).rejects.toThrow(/No dead letter/);
  });

  it("a transient failure is retried with backoff and succeeds without a dead letter", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    const flaky = flakyResults(h);
    const client = h.restart({ provider: flaky.provider, retry: { attempts: 5, minDelayMs: 20, maxDelayMs: 40 } });
    const job = client.transcribe("https://audio.example/transient.wav");
    await until(() => flaky.fetches() === 2);
    flaky.setDown(false);
    expect((await job).text).toBe(SAMPLE_TEXT);
    expect(flaky.fetches()).toBe(3);
    expect(await client.deadLetters()).toEqual([]);
  });

  it("a throwing 'transcript' listener is logged and does not re-announce the job", async () => {
    h = await harness();
    let calls = 0;
    h.client.on("transcript", () => {
      calls++;
      throw new Error("listener bug");
    });
    const transcript = await h.client.transcribe("https://audio.example/listener.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    await until(async () => (await h.client.inspect(transcript.jobId)).processed);
    expect(calls).toBe(1);
    expect(h.logs.some((entry) => entry.level === "error" && entry.msg?.includes("listener threw"))).toBe(true);
    expect(await h.client.deadLetters()).toEqual([]);
  });
});

describe("silence alert", () => {
  it("emits 'silence' and warns when jobs wait and no webhook comes", async () => {
    h = await harness({ dev: { processingDelayMs: 60_000, sendProcessingWebhook: false }, client: { silenceAlertMs: 80 } });
    const alerts: { pendingJobs: number; jobIds: string[]; silentForMs: number }[] = [];
    h.client.on("silence", (info) => alerts.push(info));
    const job = h.client.transcribe("https://audio.example/quiet.wav");
    const jobId = await job.submitted;
    await until(() => alerts.length > 0);
    expect(alerts[0]).toMatchObject({ pendingJobs: 1, jobIds: [jobId] });
    expect(alerts[0]!.silentForMs).toBeGreaterThanOrEqual(80);
    expect(h.logs.some((entry) => entry.level === "warn" && /no webhook/.test(entry.msg ?? ""))).toBe(true);
    // One alert per silence, not one per check.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alerts).toHaveLength(1);
    job.cancel();
  });

  it("stays quiet while webhooks keep arriving or nothing is pending", async () => {
    h = await harness({ client: { silenceAlertMs: 80 } });
    const alerts: unknown[] = [];
    h.client.on("silence", (info) => alerts.push(info));
    await h.client.transcribe("https://audio.example/chatty.wav");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alerts).toEqual([]);
  });
});

describe("one retry budget for a result fetch", () => {
  let proxy: ResultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it("a failing result endpoint costs retry.attempts requests in all, then a dead letter", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    proxy = await startResultProxy(h.dev.url);
    proxy.answerResults({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "result store down" }) });
    // The provider's own retry option would stack on the worker's attempts; the worker asks once per attempt.
    const client = h.restart({ provider: fastProvider(h.dev, { baseUrl: proxy.url }), retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 10 } });
    const jobId = await client.transcribe("https://audio.example/budget.wav").submitted;
    await until(async () => (await client.deadLetters()).length === 1);
    expect(await client.deadLetters()).toMatchObject([{ jobId, attempts: 3 }]);
    expect(proxy.resultFetches()).toBe(3);
  });

  it("a result that is not JSON is named by its size: its text reaches no log and no dead letter", async () => {
    // JSON.parse's own message quotes the first characters: the marker opens the body.
    const marker = "Zanzibar";
    h = await harness({ dev: { faults: { thinPayloads: true } } });
    proxy = await startResultProxy(h.dev.url);
    proxy.answerResults({ status: 200, contentType: "text/plain", body: `${marker} said on the call, the whole transcript in plain text` });
    const client = h.restart({ provider: fastProvider(h.dev, { baseUrl: proxy.url }), retry: { attempts: 2, minDelayMs: 5, maxDelayMs: 10 } });
    await client.transcribe("https://audio.example/html-result.wav").submitted;
    await until(async () => (await client.deadLetters()).length === 1);
    const [letter] = await client.deadLetters();
    expect(letter!.error).toMatch(/was not JSON, 61 bytes/);
    expect(letter!.error).not.toContain(marker);
    expect(h.logs.filter((entry) => entry.level === "warn" || entry.level === "error").length).toBeGreaterThan(0);
    for (const entry of h.logs) expect(JSON.stringify(entry)).not.toContain(marker);
  });
});
