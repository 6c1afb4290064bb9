import { metrics } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Harness, fastProvider, harness, rejection, until } from "./helpers.js";

/**
 * Metrics through @opentelemetry/api: with an SDK registered (as an application would, before the
 * client starts), the instruments count what happened; without one nothing is recorded.
 */

class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const reader = new CollectingReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);
afterAll(async () => {
  metrics.disable();
  await provider.shutdown();
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/** The data points of one instrument, as `{ attributes, value }`. */
async function points(name: string): Promise<{ attributes: Record<string, unknown>; value: unknown }[]> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((candidate) => candidate.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((point) => ({ attributes: point.attributes, value: point.value }));
}

function count(data: { attributes: Record<string, unknown>; value: unknown }[], attributes: Record<string, unknown>): number {
  return data.filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value)).reduce((sum, point) => sum + (point.value as number), 0);
}

describe("metrics", () => {
  it("count deliveries by status code and outcome, time acks and processing, count dead letters, and gauge the backlog and pending jobs", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true, duplicateDeliveries: 1 } }, client: { retry: { attempts: 1, minDelayMs: 5, maxDelayMs: 5 } } });
    const base = fastProvider(h.dev);
    let fetches = 0;
    const client = h.restart({
      provider: { ...base, fetchResult: (jobId, options) => (++fetches === 1 ? Promise.reject(new Error("result endpoint down")) : base.fetchResult!(jobId, options)) },
    });
    // The first job's only fetch fails: a dead letter. The second one completes.
    const first = client.transcribe("https://audio.example/dead-lettered.wav", { timeoutMs: 0 });
    const firstId = await first.submitted;
    await until(async () => (await client.deadLetters()).length === 1);
    const fine = await client.transcribe("https://audio.example/fine.wav");
    await until(async () => (await client.inspect(fine.jobId)).processed);
    // A forged delivery: refused before its body is read.
    const forged = await fetch(`${client.receiverUrl}/webhooks/generic/${"a".repeat(16)}/${"b".repeat(32)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(forged.status).toBe(401);

    const deliveries = await points("hookscribe.deliveries");
    expect(count(deliveries, { "http.response.status_code": 401, outcome: "refused" })).toBe(1);
    expect(count(deliveries, { "http.response.status_code": 200, outcome: "accepted" })).toBe(4);
    expect(count(deliveries, { "http.response.status_code": 200, outcome: "duplicate" })).toBeGreaterThanOrEqual(2);
    const acks = await points("hookscribe.delivery.duration");
    expect(acks.every((point) => (point.value as { count: number }).count > 0)).toBe(true);
    const processing = await points("hookscribe.processing.duration");
    expect(count(processing.map((point) => ({ ...point, value: (point.value as { count: number }).count })), { outcome: "failed", stage: "worker" })).toBe(1);
    expect(count(processing.map((point) => ({ ...point, value: (point.value as { count: number }).count })), { outcome: "completed", stage: "worker" })).toBe(1);
    expect(count(await points("hookscribe.dead_letters"), {})).toBe(1);
    // Both jobs finished at the provider; the dead letter waits for replay(), outside the backlog.
    expect(count(await points("hookscribe.worker.backlog"), {})).toBe(0);
    expect(count(await points("hookscribe.jobs.pending"), {})).toBe(0);
    first.cancel();
    expect((await rejection(first)).name).toBe("AbortError");
    expect(firstId).toMatch(/^job_/);
  });

  it("time a transcript that came with its webhook, stored with the ack, as a completed processing", async () => {
    h = await harness();
    // The instruments are the process's: what earlier tests recorded is counted too.
    const completed = async () =>
      count((await points("hookscribe.processing.duration")).map((point) => ({ ...point, value: (point.value as { count: number }).count })), { outcome: "completed", stage: "receipt" });
    const before = await completed();
    await h.client.transcribe("https://audio.example/full.wav");
    expect((await completed()) - before).toBe(1);
    expect(count(await points("hookscribe.worker.backlog"), {})).toBe(0);
  });
});
