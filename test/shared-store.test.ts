import { randomBytes } from "node:crypto";
import { type Provider, StoreError, Transcriber, type TranscriberOptions } from "hookscribe";
import { postgresStore } from "hookscribe/postgres";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { type DevProvider, startDevProvider } from "../src/dev/dev-provider.js";
import { PostgresJobStore } from "../src/store/postgres/postgres-job-store.js";
import { FAST_DEV, SAMPLE_TEXT, TEST_DATABASE_URL, dropSchemas, fastProvider, rejection, until } from "./helpers.js";

/*
 * Two clients in this process on one PostgreSQL schema, as two replicas: A submits, and its
 * webhooks go to B (A's public URL is B's receiver), so B stores and processes what A waits for.
 */

const SCHEMA = `shared_${randomBytes(6).toString("hex")}`;
const clients: Transcriber[] = [];
let dev: DevProvider | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of clients.splice(0)) await client.close();
  await dev?.close();
  dev = undefined;
});

afterAll(() => dropSchemas([SCHEMA]));

function replica(provider: Provider, options: Partial<TranscriberOptions> = {}): Transcriber {
  const client = new Transcriber({
    provider,
    receiver: { port: 0 },
    store: postgresStore({ connectionString: TEST_DATABASE_URL, schema: SCHEMA, leaseMs: 5000, probeIntervalMs: 20 }),
    retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  clients.push(client);
  return client;
}

/** B, started, and A, whose webhooks reach B. */
async function pair(providerOfB: Provider, optionsOfA: Partial<TranscriberOptions> = {}): Promise<{ a: Transcriber; b: Transcriber }> {
  const b = replica(providerOfB);
  await b.start();
  const a = replica(fastProvider(dev!), { ...optionsOfA, receiver: { port: 0, publicUrl: b.receiverUrl } });
  await a.start();
  return { a, b };
}

describe("two replicas on one schema", () => {
  it("A's await resolves from the store when B processed the webhook, and the event fires on B only", async () => {
    dev = await startDevProvider(FAST_DEV);
    const { a, b } = await pair(fastProvider(dev));
    const onA: string[] = [];
    const onB: string[] = [];
    a.on("transcript", (t) => onA.push(t.jobId));
    b.on("transcript", (t) => onB.push(t.jobId));
    const transcript = await a.transcribe("https://audio.example/shared.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    // A may read the committed transcript before B's answer to its own commit comes back.
    await until(() => onB.length > 0);
    await Promise.all(clients.map((client) => client.close()));
    expect(onB).toEqual([transcript.jobId]);
    expect(onA).toEqual([]);
  });

  it("at A's deadline, a finished job whose delivery B holds and is still processing ends A's handle with a timeout that says so", async () => {
    dev = await startDevProvider({ ...FAST_DEV, faults: { thinPayloads: true } });
    // B's result fetches hang until B closes: B holds the delivery and cannot finish it.
    const providerOfB: Provider = {
      ...fastProvider(dev),
      fetchResult: (_jobId, options) => new Promise((_, reject) => options?.signal?.addEventListener("abort", () => reject(new Error("closed")))),
    };
    const { a } = await pair(providerOfB);
    const job = a.transcribe("https://audio.example/held-elsewhere.wav", { timeoutMs: 600 });
    const error = await rejection(job);
    expect(error.name).toBe("TranscriptionTimeoutError");
    expect(error.message).toMatch(/another instance is processing/);
  });

  it("a job B finished whose transcript A cannot read, with the store healthy, rejects A's waiter with the StoreError instead of reading it again and again", async () => {
    dev = await startDevProvider(FAST_DEV);
    const { a } = await pair(fastProvider(dev));
    const reads = vi.spyOn(PostgresJobStore.prototype, "readTranscript").mockRejectedValue(new StoreError("test", "the transcript row is damaged"));
    const error = await rejection(a.transcribe("https://audio.example/unreadable.wav"));
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toMatch(/damaged/);
    // Read once on the notification, not in a loop.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(reads.mock.calls.length).toBeLessThanOrEqual(2);
  });
});
