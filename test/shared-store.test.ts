import { randomBytes } from "node:crypto";
import { type DeliveryInfo, type Provider, StoreError, Transcriber, type TranscriberOptions } from "hookscribe";
import { postgresStore } from "hookscribe/postgres";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { type DevProvider, startDevProvider } from "../src/dev/dev-provider.js";
import { PostgresJobStore } from "../src/store/postgres/postgres-job-store.js";
import { FAST_DEV, SAMPLE_TEXT, TEST_DATABASE_URL, dropSchemas, fastProvider, rejection, until } from "./helpers.js";

/*
 * Two clients in this process on one PostgreSQL schema, as two replicas: A submits, and its
 * webhooks go to B (A's public URL is B's receiver), so B stores and processes what A waits for.
 */

const SCHEMA = `shared_${randomBytes(6).toString("hex")}`;
/** A schema of its own: no delivery left by another test to take over. */
const OWN_SCHEMA = `${SCHEMA}_own`;
const clients: Transcriber[] = [];
const pools: pg.Pool[] = [];
let dev: DevProvider | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of clients.splice(0)) await client.close();
  for (const pool of pools.splice(0)) await pool.end();
  await dev?.close();
  dev = undefined;
});

afterAll(() => dropSchemas([SCHEMA, OWN_SCHEMA]));

/**
 * The pool an application gives, whose answers to the statements that complete jobs (a status
 * change that stores the transcript its webhook carried, the worker's completion of a delivery)
 * reach the store through `answer`; ended after the test.
 */
function poolAnsweringCompletions(answer: (result: Promise<unknown>) => Promise<unknown>): pg.Pool {
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL });
  pools.push(pool);
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(pool, {
    query: (...args: unknown[]) => {
      const result = query(...args);
      const [text, values] = typeof args[0] === "string" ? [args[0], args[1] as unknown[]] : [(args[0] as { text: string }).text, []];
      // A status change (its transcripts are the tenth parameter) that carries one.
      const transcripts = text.includes("AS i(ref, job_id, status, status_rank, at, error, terminal, delivery_id, event, transcript)") ? (values[9] as unknown[]) : [];
      const completes = transcripts.some((transcript) => transcript !== null) || text.includes("AS i(id, kind, at, transcript, error)");
      return completes ? answer(result) : result;
    },
  });
  return pool;
}

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

  it("a full webhook whose status change commits and loses its answer: 503, the redelivery is a duplicate, and 'transcript' fires once where it was stored", async () => {
    dev = await startDevProvider(FAST_DEV);
    // The first statement that stores a transcript with its webhook runs and commits, and its
    // answer is lost, as when the connection breaks right then.
    let lost = 0;
    const pool = poolAnsweringCompletions(async (answer) => {
      await answer;
      if (lost > 0) return answer;
      lost += 1;
      throw new Error("Connection terminated unexpectedly");
    });
    const client = replica(fastProvider(dev), { store: postgresStore({ pool, schema: OWN_SCHEMA, leaseMs: 5000, probeIntervalMs: 20 }) });
    const announced: string[] = [];
    const deliveries: DeliveryInfo[] = [];
    client.on("transcript", (t) => announced.push(t.jobId));
    client.on("delivery", (info) => deliveries.push(info));
    await client.start();

    const transcript = await client.transcribe("https://audio.example/answer-lost.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(lost).toBe(1);
    await until(() => dev!.job(transcript.jobId)?.deliveries.completed?.state === "delivered");
    // The completed webhook's two deliveries come last (a processing one may come before).
    expect(deliveries.map(({ statusCode, outcome }) => [statusCode, outcome]).slice(-2)).toEqual([
      [503, "refused"],
      [200, "duplicate"],
    ]);
    await client.close();
    expect(announced).toEqual([transcript.jobId]);
  });

  it.each([
    ["a webhook that carries its transcript", false],
    ["a thin webhook the worker completes", true],
  ])("on the replica that completes a job (%s), its handle settles with the announcement even when the commit's notification outruns the answer", async (_, thinPayloads) => {
    dev = await startDevProvider({ ...FAST_DEV, faults: { thinPayloads } });
    // Each answer to a completion comes 100 ms after its commit, and its NOTIFY.
    const pool = poolAnsweringCompletions(async (answer) => {
      const result = await answer;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return result;
    });
    const client = replica(fastProvider(dev), { store: postgresStore({ pool, schema: OWN_SCHEMA, leaseMs: 5000, probeIntervalMs: 20 }) });
    const announced: string[] = [];
    client.on("transcript", (t) => announced.push(t.jobId));
    await client.start();

    const transcript = await client.transcribe("https://audio.example/slow-answer.wav");
    // Settled by the announcement, not by the notification that came before it.
    expect(announced).toEqual([transcript.jobId]);
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
