import type { Provider } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, fastProvider, harness, until } from "./helpers.js";

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
