import { randomBytes, randomUUID } from "node:crypto";
import { type AddressInfo, type Socket, connect, createServer } from "node:net";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ProviderEvent } from "../src/domain/provider-event.js";
import type { Transcript } from "../src/domain/transcript.js";
import { postgresStore } from "../src/postgres/index.js";
import { PostgresJobStore, type PostgresJobStoreOptions } from "../src/store/postgres/postgres-job-store.js";
import { PostgresStoreReader } from "../src/store/postgres/postgres-store-reader.js";
import type { DeadLetterRecord, JobRecord } from "../src/store/records.js";
import { TcpProxy } from "./tcp-proxy.js";
import { TEST_DATABASE_URL } from "./store-choice.js";

/**
 * The PostgreSQL store against a real server (no mocks), on a schema of this file's own. Two
 * `PostgresJobStore` objects on one schema are two replicas.
 */

const DATABASE_URL = TEST_DATABASE_URL;
const SCHEMA = `hookscribe_test_${randomBytes(6).toString("hex")}`;
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const opened: PostgresJobStore[] = [];

async function openStore(overrides: Partial<PostgresJobStoreOptions> = {}): Promise<PostgresJobStore> {
  const { connectionString, ...rest } = { connectionString: DATABASE_URL, schema: SCHEMA, leaseMs: 30_000, maxConnections: 4, probeIntervalMs: 20, ...overrides };
  const store = new PostgresJobStore(overrides.pool ? rest : { connectionString, ...rest });
  opened.push(store);
  await store.open();
  return store;
}

async function query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  return (await admin.query<T>(sql, values)).rows;
}

function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  const ref = randomUUID();
  const now = Date.now();
  return { ref, provider: "generic", jobId: `job_${ref}`, status: "queued", tokenHash: `hash_${ref}`, createdAt: now, updatedAt: now, processed: false, ...overrides };
}

function completedEvent(jobId: string): ProviderEvent {
  // A NUL escape and a null inside: kept as received.
  return { jobId, status: "completed", result: { text: "hello", words: [{ text: "hello", start: 0, end: 0.5 }] }, raw: { job_id: jobId, note: "a\u0000b", extra: null } };
}

function transcriptOf(job: JobRecord): Transcript {
  return { jobId: job.jobId!, provider: job.provider, status: "completed", text: "hello", words: [], raw: { job_id: job.jobId } };
}

/** Creates `job` and moves it to `completed` with its event: the delivery, held by `store`. */
async function terminalDelivery(store: PostgresJobStore, job: JobRecord, at = Date.now()): Promise<string> {
  await store.createJob(job);
  const result = await store.changeStatus(job.ref, { jobId: job.jobId!, status: "completed", at, event: completedEvent(job.jobId!) });
  if (result.outcome !== "advanced" || result.deliveryId === undefined) throw new Error(`expected a delivery, got ${result.outcome}`);
  return result.deliveryId;
}

/** A new job, created by `store` and moved to `processing` there: a change every store on the schema hears of. */
async function processingJob(store: PostgresJobStore): Promise<JobRecord> {
  const job = jobRecord();
  await store.createJob(job);
  await store.changeStatus(job.ref, { jobId: job.jobId!, status: "processing", at: Date.now() });
  return job;
}

function deadLetterOf(deliveryId: string, job: JobRecord, overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord {
  return { id: deliveryId, deliveryId, ref: job.ref, jobId: job.jobId!, error: "boom", attempts: 5, failedAt: Date.now(), ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error as Error,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A login role of this test's own (trust auth: no password), given `grants`; dropped by `drop()`. */
async function roleWith(grants: string[]): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `hookscribe_role_${randomBytes(6).toString("hex")}`;
  await admin.query(`CREATE ROLE ${name} LOGIN`);
  for (const grant of grants) await admin.query(`${grant} TO ${name}`);
  const url = new URL(DATABASE_URL);
  url.username = name;
  url.password = "";
  return {
    name,
    url: url.toString(),
    async drop() {
      await admin.query(`DROP OWNED BY ${name}`);
      await admin.query(`DROP ROLE ${name}`);
    },
  };
}

/** A proxy to the database (see tcp-proxy.ts), and the connection string through it. */
async function proxiedDatabase(): Promise<{ proxy: TcpProxy; url: string }> {
  const server = new URL(DATABASE_URL);
  const proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
  const url = new URL(DATABASE_URL);
  url.host = `127.0.0.1:${proxy.port}`;
  return { proxy, url: url.toString() };
}

beforeAll(async () => {
  await (await openStore()).close();
});

beforeEach(async () => {
  await admin.query(`TRUNCATE "${SCHEMA}".jobs CASCADE`);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

describe("PostgresJobStore: jobs", () => {
  it("stores a job and reads it by ref and by provider job id, absent fields absent", async () => {
    const store = await openStore();
    const full = jobRecord({ secretHash: "secret_hash", status: "error", error: "bad audio", finishedAt: Date.now(), processed: true });
    const bare = jobRecord({ status: "submitting", jobId: undefined });
    delete bare.jobId;
    await store.createJob(full);
    await store.createJob(bare);

    expect(await store.job(full.ref)).toStrictEqual(full);
    expect(await store.job(bare.ref)).toStrictEqual(bare);
    expect(await store.jobByProviderId("generic", full.jobId!)).toStrictEqual(full);
    expect(await store.jobByProviderId("other", full.jobId!)).toBeUndefined();
    expect(await store.job("nope")).toBeUndefined();

    const duplicate = await rejection(store.createJob(full));
    expect(duplicate.name).toBe("StoreError");
    expect(duplicate.message).toContain("23505");
  });

  it("lists jobs newest first, page by page and by status; pending jobs oldest first", async () => {
    const store = await openStore();
    const base = Date.now() - 100_000;
    const jobs = [
      jobRecord({ createdAt: base + 1, status: "queued" }),
      jobRecord({ createdAt: base + 2, status: "processing" }),
      jobRecord({ createdAt: base + 3, status: "completed", finishedAt: base + 3 }),
      jobRecord({ createdAt: base + 3, status: "queued" }),
      jobRecord({ createdAt: base + 4, status: "submitting" }),
    ];
    delete jobs[4]!.jobId;
    for (const job of jobs) await store.createJob(job);
    const newestFirst = [...jobs].sort((a, b) => b.createdAt - a.createdAt || (a.ref < b.ref ? 1 : -1)).map((job) => job.ref);

    const paged: string[] = [];
    let after: { createdAt: number; ref: string } | undefined;
    for (;;) {
      const page = await store.listJobs({ limit: 2, ...(after && { after }) });
      if (page.length === 0) break;
      paged.push(...page.map((job) => job.ref));
      const last = page.at(-1)!;
      after = { createdAt: last.createdAt, ref: last.ref };
    }
    expect(paged).toEqual(newestFirst);
    expect((await store.listJobs({ limit: 10, status: "queued" })).map((job) => job.ref)).toEqual([jobs[3]!.ref, jobs[0]!.ref]);
    expect((await store.pendingJobs()).map((job) => job.ref)).toEqual([jobs[0]!.ref, jobs[1]!.ref, jobs[3]!.ref]);
  });

  it("refuses a row that is not a valid record, naming the table and the row, not its content", async () => {
    const store = await openStore();
    const job = jobRecord();
    await store.createJob(job);
    await admin.query(`UPDATE "${SCHEMA}".jobs SET status = 'sideways-secret' WHERE ref = $1`, [job.ref]);
    const error = await rejection(store.job(job.ref));
    expect(error.name).toBe("StoreError");
    expect(error.message).toContain(`jobs row ${job.ref}`);
    expect(error.message).toContain("status");
    expect(error.message).not.toContain("sideways-secret");
  });
});

describe("PostgresJobStore: changeStatus", () => {
  it("moves a job forward only, never to another provider job id, never once terminal", async () => {
    const store = await openStore();
    const job = jobRecord();
    await store.createJob(job);
    const at = job.createdAt + 10;

    const processing = await store.changeStatus(job.ref, { jobId: job.jobId!, status: "processing", at });
    expect(processing).toEqual({ outcome: "advanced", job: { ...job, status: "processing", updatedAt: at } });
    expect(await store.changeStatus(job.ref, { jobId: job.jobId!, status: "processing", at: at + 1 })).toMatchObject({ outcome: "unchanged", job: { status: "processing", updatedAt: at } });
    expect(await store.changeStatus(job.ref, { jobId: job.jobId!, status: "queued", at: at + 2 })).toMatchObject({ outcome: "unchanged", job: { status: "processing" } });
    expect(await store.changeStatus(job.ref, { jobId: "job_other", status: "completed", at: at + 3 })).toMatchObject({ outcome: "foreign", job: { status: "processing" } });
    expect(await store.changeStatus("no-such-ref", { jobId: job.jobId!, status: "completed", at })).toEqual({ outcome: "missing" });

    const failed = await store.changeStatus(job.ref, { jobId: job.jobId!, status: "error", error: "no audio", at: at + 4 });
    expect(failed).toEqual({ outcome: "advanced", job: { ...job, status: "error", error: "no audio", updatedAt: at + 4, finishedAt: at + 4 } });
    expect(await store.changeStatus(job.ref, { jobId: job.jobId!, status: "completed", at: at + 5, event: completedEvent(job.jobId!) })).toMatchObject({
      outcome: "unchanged",
      job: { status: "error" },
    });
    expect(await query(`SELECT id FROM "${SCHEMA}".deliveries WHERE ref = $1`, [job.ref])).toEqual([]);
  });

  it("gives a submitted job its provider job id", async () => {
    const store = await openStore();
    const job = jobRecord({ status: "submitting" });
    delete job.jobId;
    await store.createJob(job);
    const result = await store.changeStatus(job.ref, { jobId: "job_new", status: "queued", at: job.createdAt });
    expect(result).toMatchObject({ outcome: "advanced", job: { jobId: "job_new", status: "queued" } });
    expect(await store.jobByProviderId("generic", "job_new")).toMatchObject({ ref: job.ref });
  });

  it("turns a terminal event into one delivery held by this instance", async () => {
    const store = await openStore();
    const other = await openStore();
    const job = jobRecord();
    const deliveryId = await terminalDelivery(store, job);

    expect(await store.pendingDelivery(job.ref)).toEqual({ id: deliveryId, ref: job.ref, jobId: job.jobId, event: completedEvent(job.jobId!), receivedAt: expect.any(Number) });
    expect(store.unprocessedCount()).toBe(1);
    expect(await other.claim(deliveryId)).toBeUndefined();
    expect(await other.takeOver()).toEqual([]);
    expect(await store.claim(deliveryId)).toMatchObject({ id: deliveryId });
  });

  it("creates exactly one delivery when replicas apply the same terminal event at once", async () => {
    const replicas = await Promise.all([openStore(), openStore()]);
    const job = jobRecord();
    await replicas[0].createJob(job);
    const change = { jobId: job.jobId!, status: "completed" as const, at: Date.now(), event: completedEvent(job.jobId!) };
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => replicas[index % 2]!.changeStatus(job.ref, change)));

    const advanced = results.filter((result) => result.outcome === "advanced");
    expect(advanced).toHaveLength(1);
    expect(results.filter((result) => result.outcome === "unchanged")).toHaveLength(19);
    const deliveries = await query<{ id: string }>(`SELECT id FROM "${SCHEMA}".deliveries WHERE ref = $1`, [job.ref]);
    expect(deliveries.map((row) => row.id)).toEqual([(advanced[0] as { deliveryId: string }).deliveryId]);
  });
});

describe("PostgresJobStore: deliveries across replicas", () => {
  it("hands a free delivery to exactly one of two replicas claiming it at once", async () => {
    const creator = await openStore();
    const deliveryId = await terminalDelivery(creator, jobRecord());
    await creator.close(); // gives up its hold

    const [a, b] = await Promise.all([openStore(), openStore()]);
    const claims = await Promise.all([a.claim(deliveryId), b.claim(deliveryId)]);
    expect(claims.filter((claim) => claim !== undefined)).toHaveLength(1);
    const winner = claims[0] ? a : b;
    const loser = claims[0] ? b : a;
    expect(await loser.claim(deliveryId)).toBeUndefined();
    expect(await winner.claim(deliveryId)).toMatchObject({ id: deliveryId });
  });

  it("keeps a live replica's hold renewed, and hands the delivery over once its holder is gone", async () => {
    const poolA = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    const a = await openStore({ pool: poolA, leaseMs: 400 });
    const b = await openStore({ leaseMs: 400 });
    const job = jobRecord();
    const deliveryId = await terminalDelivery(a, job);

    // Several leases long: a's heartbeat renews its hold all along.
    await sleep(1200);
    expect(await b.takeOver()).toEqual([]);
    expect(await b.claim(deliveryId)).toBeUndefined();

    // a dies: its connections are gone and nothing renews its hold any more.
    await poolA.end();
    const taken = await vi.waitFor(
      async () => {
        const found = await b.takeOver();
        expect(found).toHaveLength(1);
        return found;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(taken[0]).toMatchObject({ id: deliveryId, ref: job.ref, event: completedEvent(job.jobId!) });
    expect(await b.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, Date.now())).toBe(true);
    expect(await b.job(job.ref)).toMatchObject({ processed: true });
  });

  it("takes over what a closed replica gave up, oldest first", async () => {
    const a = await openStore();
    const first = await terminalDelivery(a, jobRecord(), 1000);
    const second = await terminalDelivery(a, jobRecord(), 2000);
    await a.close();
    const b = await openStore();
    expect((await b.takeOver()).map((delivery) => delivery.id)).toEqual([first, second]);
    expect(await b.takeOver()).toEqual([]);
  });

  it("lets only the holder complete a delivery: the transcript, the job processed, the delivery and its dead letter gone", async () => {
    const holder = await openStore();
    const other = await openStore();
    const job = jobRecord();
    const deliveryId = await terminalDelivery(holder, job);
    await holder.saveDeadLetter(deadLetterOf(deliveryId, job));
    expect(await holder.claim(deliveryId)).toBeDefined();

    expect(await other.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, Date.now())).toBe(false);
    expect(await other.readTranscript(job.ref)).toBeUndefined();
    expect(await other.job(job.ref)).toMatchObject({ processed: false });
    expect(await other.pendingDelivery(job.ref)).toMatchObject({ id: deliveryId });

    const at = Date.now();
    expect(await holder.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, at)).toBe(true);
    expect(await other.readTranscript(job.ref)).toEqual(transcriptOf(job));
    expect(await other.job(job.ref)).toMatchObject({ status: "completed", processed: true, updatedAt: at });
    expect(await other.pendingDelivery(job.ref)).toBeUndefined();
    expect(await other.deadLetters()).toEqual([]);
    expect(await holder.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, at)).toBe(false);
  });

  it("completes with a provider failure, or with nothing left to do", async () => {
    const store = await openStore();
    const failing = jobRecord();
    const failingDelivery = await terminalDelivery(store, failing, 5000);
    expect(await store.completeDelivery(failingDelivery, { kind: "error", error: "no speech" }, 6000)).toBe(true);
    expect(await store.job(failing.ref)).toMatchObject({ status: "error", error: "no speech", processed: true, finishedAt: 5000, updatedAt: 6000 });
    expect(await store.readTranscript(failing.ref)).toBeUndefined();

    const done = jobRecord();
    const doneDelivery = await terminalDelivery(store, done, 5000);
    expect(await store.completeDelivery(doneDelivery, { kind: "already-processed" }, 6000)).toBe(true);
    expect(await store.job(done.ref)).toMatchObject({ status: "completed", processed: false, updatedAt: 5000 });
    expect(await store.pendingDelivery(done.ref)).toBeUndefined();
    expect(store.unprocessedCount()).toBe(0);
  });

  it("keeps a thin delivery's fetched result", async () => {
    const store = await openStore();
    const job = jobRecord();
    const deliveryId = await terminalDelivery(store, job);
    const fetched = completedEvent(job.jobId!);
    await store.keepFetchedResult(deliveryId, { ...fetched, raw: { fetched: true } });
    expect(await store.pendingDelivery(job.ref)).toMatchObject({ fetched: { ...fetched, raw: { fetched: true } } });
  });

  it("keeps dead letters oldest first, leaves them out of the count and of takeovers, and lets any replica replay one", async () => {
    const a = await openStore();
    const b = await openStore();
    const [first, second] = [jobRecord(), jobRecord()];
    const firstDelivery = await terminalDelivery(a, first);
    const secondDelivery = await terminalDelivery(a, second);
    expect(a.unprocessedCount()).toBe(2);

    await a.saveDeadLetter(deadLetterOf(firstDelivery, first, { failedAt: 2000 }));
    await a.saveDeadLetter(deadLetterOf(secondDelivery, second, { failedAt: 1000 }));
    await a.saveDeadLetter(deadLetterOf(firstDelivery, first, { failedAt: 3000, attempts: 6 }));
    expect(a.unprocessedCount()).toBe(0);
    expect((await b.deadLetters()).map((letter) => [letter.id, letter.attempts])).toEqual([
      [secondDelivery, 5],
      [firstDelivery, 6],
    ]);
    expect(await b.deadLetter(firstDelivery)).toEqual(deadLetterOf(firstDelivery, first, { failedAt: 3000, attempts: 6 }));
    expect(await b.takeOver()).toEqual([]);

    // A replay on another replica.
    expect(await b.claim(firstDelivery)).toMatchObject({ id: firstDelivery });
    expect(await b.completeDelivery(firstDelivery, { kind: "completed", transcript: transcriptOf(first) }, Date.now())).toBe(true);
    expect(await a.deadLetter(firstDelivery)).toBeUndefined();
    expect(await a.deadLetters()).toHaveLength(1);

    // A dead letter for a delivery processed meanwhile has nothing to keep.
    await a.saveDeadLetter(deadLetterOf(firstDelivery, first));
    expect(await a.deadLetter(firstDelivery)).toBeUndefined();
  });
});

describe("PostgresJobStore: deliveries held in memory", () => {
  /** A store on a pool of its own whose statements are counted (and, by `refuse`, made to fail). */
  async function countedStore(overrides: Partial<PostgresJobStoreOptions> = {}) {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    const statements: string[] = [];
    let refuse: ((text: string) => boolean) | undefined;
    const original = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
    vi.spyOn(pool, "query").mockImplementation(((text: string, values?: unknown[]) => {
      statements.push(text);
      if (refuse?.(text)) return Promise.reject(new Error("refused by the test"));
      return original(text, values);
    }) as unknown as typeof pool.query);
    const store = await openStore({ pool, ...overrides });
    statements.length = 0;
    return {
      store,
      statements,
      refuseWhen(test: (text: string) => boolean) {
        refuse = test;
      },
      async end() {
        await store.close();
        await pool.end();
      },
    };
  }

  it("claims a delivery it just created and reads its job without a statement; completes it in one", async () => {
    const { store, statements, end } = await countedStore();
    try {
      const job = jobRecord();
      await store.createJob(job);
      const change = await store.changeStatus(job.ref, { jobId: job.jobId!, status: "completed", at: job.createdAt + 1, event: completedEvent(job.jobId!) });
      if (change.outcome !== "advanced" || change.deliveryId === undefined) throw new Error("expected a delivery");
      statements.length = 0;

      const claimed = await store.claim(change.deliveryId);
      expect(claimed).toEqual(await store.pendingDelivery(job.ref));
      statements.length = 0;
      expect(await store.job(job.ref)).toEqual(change.job);
      expect(statements).toEqual([]);

      expect(await store.completeDelivery(change.deliveryId, { kind: "completed", transcript: transcriptOf(job) }, job.createdAt + 2)).toBe(true);
      expect(statements).toHaveLength(1);
      // Gone from memory with the delivery: read from the database again.
      expect(await store.job(job.ref)).toMatchObject({ processed: true, updatedAt: job.createdAt + 2 });
      expect(await store.claim(change.deliveryId)).toBeUndefined();
      expect(statements).toHaveLength(3);
    } finally {
      await end();
    }
  });

  it("asks the database again once its renewals failed long enough for the lease to lapse, and finds the delivery taken over", async () => {
    const { store, statements, refuseWhen, end } = await countedStore({ leaseMs: 300 });
    try {
      const other = await openStore({ leaseMs: 300 });
      const job = jobRecord();
      const deliveryId = await terminalDelivery(store, job);
      statements.length = 0;
      expect(await store.claim(deliveryId)).toMatchObject({ id: deliveryId });
      expect(statements).toEqual([]);

      // The heartbeat's renewals fail: the hold lapses, and the other replica takes the delivery.
      refuseWhen((text) => text.includes("id = ANY"));
      const taken = await vi.waitFor(
        async () => {
          const found = await other.takeOver();
          expect(found).toHaveLength(1);
          return found;
        },
        { timeout: 5000, interval: 50 },
      );
      expect(taken[0]).toMatchObject({ id: deliveryId });

      expect(await store.claim(deliveryId)).toBeUndefined();
      expect(await store.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, Date.now())).toBe(false);
      expect(await other.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, Date.now())).toBe(true);
      expect(await store.job(job.ref)).toMatchObject({ processed: true });
    } finally {
      await end();
    }
  });

  it("reads a thin delivery from the database until it has a final result, which another replica may bring", async () => {
    const { store, statements, end } = await countedStore();
    try {
      const other = await openStore();
      const job = jobRecord();
      await store.createJob(job);
      const thin: ProviderEvent = { jobId: job.jobId!, status: "completed", raw: { thin: true } };
      const change = await store.changeStatus(job.ref, { jobId: job.jobId!, status: "completed", at: Date.now(), event: thin });
      const deliveryId = (change as { deliveryId: string }).deliveryId;
      statements.length = 0;
      expect(await store.claim(deliveryId)).toMatchObject({ event: thin });
      expect(statements).toHaveLength(1);

      // A duplicate webhook on another replica brings the result: the holder's next claim sees it.
      const brought = completedEvent(job.jobId!);
      await other.keepFetchedResult(deliveryId, brought);
      expect(await store.claim(deliveryId)).toMatchObject({ fetched: brought });

      // Its own fetched result is kept in memory too: a final one needs no statement any more.
      const fetched = { ...brought, raw: { fetched: true } };
      await store.keepFetchedResult(deliveryId, fetched);
      statements.length = 0;
      expect(await store.claim(deliveryId)).toMatchObject({ fetched });
      expect(statements).toEqual([]);
    } finally {
      await end();
    }
  });

  it("writes status changes and completions that come together as one statement each, every one as if alone", async () => {
    const { store, statements, end } = await countedStore();
    try {
      const other = await openStore();
      const jobs = Array.from({ length: 21 }, () => jobRecord());
      for (const job of jobs) await store.createJob(job);
      // One of them is held by another replica: its completion here is refused, the others' are not.
      const foreignJob = jobRecord();
      const foreign = await terminalDelivery(other, foreignJob);
      statements.length = 0;

      const changes = await Promise.all(
        jobs.map((job) => store.changeStatus(job.ref, { jobId: job.jobId!, status: "completed", at: job.createdAt + 1, event: completedEvent(job.jobId!) })),
      );
      // The first went alone; the others waited for it and went together.
      expect(statements).toHaveLength(2);
      const ids = changes.map((change) => (change as { deliveryId: string }).deliveryId);
      expect(new Set(ids).size).toBe(21);
      expect(store.unprocessedCount()).toBe(21);
      statements.length = 0;

      const completed = await Promise.all([
        ...ids.map((id, index) =>
          index % 3 === 0
            ? store.completeDelivery(id, { kind: "error", error: `failed ${index}` }, 7000)
            : store.completeDelivery(id, { kind: "completed", transcript: transcriptOf(jobs[index]!) }, 7000),
        ),
        store.completeDelivery(foreign, { kind: "completed", transcript: transcriptOf(foreignJob) }, 7000),
      ]);
      expect(statements).toHaveLength(2);
      expect(completed).toEqual([...ids.map(() => true), false]);
      for (const [index, job] of jobs.entries()) {
        if (index % 3 === 0) {
          expect(await other.job(job.ref)).toMatchObject({ status: "error", error: `failed ${index}`, processed: true, updatedAt: 7000, finishedAt: job.createdAt + 1 });
          expect(await other.readTranscript(job.ref)).toBeUndefined();
        } else {
          expect(await other.job(job.ref)).toMatchObject({ status: "completed", processed: true, updatedAt: 7000 });
          expect(await other.readTranscript(job.ref)).toEqual(transcriptOf(job));
        }
      }
      expect(await other.pendingDelivery(foreignJob.ref)).toMatchObject({ id: foreign });
      expect(await other.readTranscript(foreignJob.ref)).toBeUndefined();
      expect(store.unprocessedCount()).toBe(0);
    } finally {
      await end();
    }
  });

  it("runs each change of a batch the server refuses again alone, so only the faulty one fails", async () => {
    const { store, statements, end } = await countedStore();
    try {
      const taken = jobRecord();
      const submitting = jobRecord({ status: "submitting" });
      delete submitting.jobId;
      const jobs = Array.from({ length: 10 }, () => jobRecord());
      for (const job of [taken, submitting, ...jobs]) await store.createJob(job);
      statements.length = 0;

      const results = await Promise.allSettled([
        store.changeStatus(jobs[0]!.ref, { jobId: jobs[0]!.jobId!, status: "processing", at: Date.now() }),
        ...jobs.slice(1).map((job) => store.changeStatus(job.ref, { jobId: job.jobId!, status: "processing", at: Date.now() })),
        // Another job has this provider job id already: the unique index refuses it.
        store.changeStatus(submitting.ref, { jobId: taken.jobId!, status: "queued", at: Date.now() }),
      ]);
      expect(results.slice(0, 10).map((result) => result.status === "fulfilled" && result.value.outcome)).toEqual(jobs.map(() => "advanced"));
      const refused = results[10]!;
      expect(refused.status).toBe("rejected");
      expect((refused as PromiseRejectedResult).reason).toMatchObject({ name: "StoreError", message: expect.stringContaining("23505") });
      // The first alone, the batch of the others (refused), then each of them alone.
      expect(statements).toHaveLength(1 + 1 + 10);
      expect(store.healthy()).toBe(true);
      expect(await store.job(submitting.ref)).toMatchObject({ status: "submitting" });
    } finally {
      await end();
    }
  });

  it("no longer answers from memory a delivery it dead-lettered", async () => {
    const store = await openStore();
    const other = await openStore();
    const job = jobRecord();
    const deliveryId = await terminalDelivery(store, job);
    await store.saveDeadLetter(deadLetterOf(deliveryId, job));
    expect(await other.claim(deliveryId)).toMatchObject({ id: deliveryId });
    expect(await store.claim(deliveryId)).toBeUndefined();
    expect(await store.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, Date.now())).toBe(false);
  });
});

describe("PostgresJobStore: notifications", () => {
  it("tells each replica about the other replicas' changes, and of its own only its completions", async () => {
    const [a, b] = await Promise.all([openStore(), openStore()]);
    const seen = { a: [] as (string | undefined)[], b: [] as (string | undefined)[] };
    a.watch((ref) => seen.a.push(ref));
    const stopB = b.watch((ref) => seen.b.push(ref));

    const fromA = jobRecord();
    const deliveryId = await terminalDelivery(a, fromA);
    await vi.waitFor(() => expect(seen.b).toEqual([fromA.ref]));
    await a.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(fromA) }, Date.now());
    await vi.waitFor(() => expect(seen.b).toEqual([fromA.ref, fromA.ref]));

    const fromB = await processingJob(b);
    // Notifications arrive in commit order: a's own status change, had it come, would be here
    // already; its own completion did come.
    await vi.waitFor(() => expect(seen.a).toEqual([fromA.ref, fromB.ref]));

    stopB();
    await b.changeStatus(fromB.ref, { jobId: fromB.jobId!, status: "completed", at: Date.now() });
    await vi.waitFor(() => expect(seen.a).toEqual([fromA.ref, fromB.ref, fromB.ref]));
    expect(seen.b).toEqual([fromA.ref, fromA.ref]);
  });

  it("tells its own listeners about its own completion, whose reply may have been lost to the worker", async () => {
    const store = await openStore();
    const seen: (string | undefined)[] = [];
    store.watch((ref) => seen.push(ref));
    const job = jobRecord();
    const deliveryId = await terminalDelivery(store, job);
    expect(await store.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, Date.now())).toBe(true);
    // The completion, once: its own status change before it (same connection, earlier commit) was not told.
    await vi.waitFor(() => expect(seen).toEqual([job.ref]));

    // What a lost reply leaves: a retry finds the delivery gone, the job processed for whoever reads it.
    expect(await store.claim(deliveryId)).toBeUndefined();
    expect(await store.job(job.ref)).toMatchObject({ processed: true });
  });

  it("listens again after its connection is killed, and says changes may have been missed", async () => {
    const [store, other] = await Promise.all([openStore(), openStore()]);
    const seen: (string | undefined)[] = [];
    store.watch((ref) => seen.push(ref));

    const killed = await query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hookscribe listener' AND query = $1`, [
      `LISTEN "${SCHEMA}_changes"`,
    ]);
    expect(killed).toHaveLength(2);
    await vi.waitFor(() => expect(seen).toEqual([undefined]), { timeout: 10_000 });

    const job = await processingJob(other);
    await vi.waitFor(() => expect(seen).toEqual([undefined, job.ref]));
  });

  it("finds a half-open listening connection by checking it, listens again and says changes may have been missed", async () => {
    const { proxy, url } = await proxiedDatabase();
    try {
      // A lease so long that no heartbeat runs meanwhile: only the listener's own check finds the freeze.
      const store = await openStore({ connectionString: url, leaseMs: 3_600_000, queryTimeoutMs: 1000, listenerCheckMs: 50 });
      const other = await openStore();
      const seen: (string | undefined)[] = [];
      store.watch((ref) => seen.push(ref));

      // Its connections stay open and answer nothing; new ones pass.
      proxy.freeze();
      expect(proxy.frozen).toBeGreaterThan(0);
      await vi.waitFor(() => expect(seen).toContain(undefined), { timeout: 10_000 });

      // The new connection listens.
      const job = await processingJob(other);
      await vi.waitFor(() => expect(seen).toContain(job.ref));
    } finally {
      await proxy.close();
    }
  });
});

describe("PostgresJobStore: schema migrations", () => {
  it("migrates once when replicas start together, and refuses a schema newer than the code", async () => {
    const schema = `${SCHEMA}_m`;
    try {
      const replicas = await Promise.all([1, 2, 3].map(() => openStore({ schema })));
      await openStore({ schema });
      expect(await query(`SELECT version FROM "${schema}".schema_version ORDER BY version`)).toEqual([{ version: 1 }, { version: 2 }]);
      const job = jobRecord();
      await replicas[0]!.createJob(job);
      expect(await replicas[2]!.job(job.ref)).toEqual(job);

      // A schema of version 1, with a job in it, is brought to version 2 and keeps its rows.
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await admin.query(`ALTER TABLE "${schema}".jobs DROP COLUMN completed_by; DELETE FROM "${schema}".schema_version WHERE version = 2`);
      const upgraded = await openStore({ schema });
      expect(await query(`SELECT version FROM "${schema}".schema_version ORDER BY version`)).toEqual([{ version: 1 }, { version: 2 }]);
      expect(await upgraded.job(job.ref)).toEqual(job);
      const deliveryId = await upgraded.changeStatus(job.ref, { jobId: job.jobId!, status: "completed", at: Date.now(), event: completedEvent(job.jobId!) });
      expect(deliveryId).toMatchObject({ outcome: "advanced" });

      await admin.query(`INSERT INTO "${schema}".schema_version (version) VALUES (99)`);
      const refused = await rejection(openStore({ schema }));
      expect(refused.name).toBe("StoreError");
      expect(refused.message).toMatch(/version 99, newer than this hookscribe knows/);
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});

describe("PostgresJobStore: least privilege", () => {
  it("starts and works as a role that may only use the tables of an up-to-date schema (no DDL, no lock)", async () => {
    const role = await roleWith([`GRANT USAGE ON SCHEMA "${SCHEMA}"`, `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${SCHEMA}"`]);
    try {
      const store = await openStore({ connectionString: role.url });
      try {
        const other = await openStore();
        const job = jobRecord();
        const deliveryId = await terminalDelivery(store, job);
        expect(await store.claim(deliveryId)).toMatchObject({ id: deliveryId });
        await store.saveDeadLetter(deadLetterOf(deliveryId, job));
        expect(await other.deadLetter(deliveryId)).toMatchObject({ ref: job.ref });
        expect(await store.claim(deliveryId)).toMatchObject({ id: deliveryId });
        expect(await store.completeDelivery(deliveryId, { kind: "completed", transcript: transcriptOf(job) }, Date.now())).toBe(true);
        expect(await other.job(job.ref)).toMatchObject({ processed: true });
        expect(await store.readTranscript(job.ref)).toEqual(transcriptOf(job));
        expect(await store.prune(Date.now() + 1000)).toBe(1);
        expect(await store.takeOver()).toEqual([]);
        expect(store.healthy()).toBe(true);
      } finally {
        await store.close();
      }
    } finally {
      await role.drop();
    }
  });

  it("reads with a reader that only ever reads: a role allowed only SELECT, and a schema without a store is left as it is", async () => {
    const writer = await openStore();
    const job = jobRecord();
    const deliveryId = await terminalDelivery(writer, job);
    await writer.saveDeadLetter(deadLetterOf(deliveryId, job));
    const role = await roleWith([`GRANT USAGE ON SCHEMA "${SCHEMA}"`, `GRANT SELECT ON ALL TABLES IN SCHEMA "${SCHEMA}"`]);
    try {
      const reader = new PostgresStoreReader({ connectionString: role.url, schema: SCHEMA, maxConnections: 1, applicationName: "hookscribe test reader" });
      try {
        expect(await reader.open()).toBe(true);
        expect(await reader.listJobs({ limit: 10 })).toEqual([{ ...job, status: "completed", updatedAt: expect.any(Number), finishedAt: expect.any(Number) }]);
        expect(await reader.jobByProviderId(job.provider, job.jobId!)).toMatchObject({ ref: job.ref });
        expect(await reader.deadLetters()).toEqual([deadLetterOf(deliveryId, job, { failedAt: expect.any(Number) })]);
        expect(await reader.readTranscript(job.ref)).toBeUndefined();
      } finally {
        await reader.close();
      }

      const missing = new PostgresStoreReader({ connectionString: DATABASE_URL, schema: `${SCHEMA}_none`, maxConnections: 1, applicationName: "hookscribe test reader" });
      try {
        expect(await missing.open()).toBe(false);
      } finally {
        await missing.close();
      }
      expect(await query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [`${SCHEMA}_none`])).toEqual([]);
    } finally {
      await role.drop();
    }
  });
});

describe("PostgresJobStore: prune", () => {
  it("removes processed jobs finished before the cutoff (transcripts with them) and stale submits, once across replicas", async () => {
    const [a, b] = await Promise.all([openStore(), openStore()]);
    const old = Date.now() - 60_000;
    const now = Date.now();

    const oldDone = jobRecord({ createdAt: old, updatedAt: old });
    await a.completeDelivery(await terminalDelivery(a, oldDone, old), { kind: "completed", transcript: transcriptOf(oldDone) }, old);
    const recentDone = jobRecord();
    await a.completeDelivery(await terminalDelivery(a, recentDone, now), { kind: "completed", transcript: transcriptOf(recentDone) }, now);
    const oldFailed = jobRecord({ status: "error", error: "x", processed: true, createdAt: old, updatedAt: old, finishedAt: old });
    const oldPending = jobRecord({ status: "processing", createdAt: old, updatedAt: old });
    const oldUnprocessed = jobRecord({ createdAt: old, updatedAt: old });
    const staleSubmit = jobRecord({ status: "submitting", createdAt: old, updatedAt: old });
    const recentSubmit = jobRecord({ status: "submitting" });
    delete staleSubmit.jobId;
    delete recentSubmit.jobId;
    for (const job of [oldFailed, oldPending, staleSubmit, recentSubmit]) await a.createJob(job);
    await terminalDelivery(a, oldUnprocessed, old);

    const removed = await Promise.all([a.prune(now - 1000), b.prune(now - 1000)]);
    expect(removed[0] + removed[1]).toBe(3);
    const left = await query<{ ref: string }>(`SELECT ref FROM "${SCHEMA}".jobs`);
    expect(left.map((row) => row.ref).sort()).toEqual([recentDone, oldPending, oldUnprocessed, recentSubmit].map((job) => job.ref).sort());
    expect(await query(`SELECT ref FROM "${SCHEMA}".transcripts`)).toEqual([{ ref: recentDone.ref }]);
    expect(await a.pendingDelivery(oldUnprocessed.ref)).toBeDefined();
    expect(await a.prune(now - 1000)).toBe(0);
  });
});

describe("PostgresJobStore: connections", () => {
  it("ends the pool it created, never one it was given", async () => {
    const applicationName = `hs_${randomBytes(6).toString("hex")}`;
    const url = new URL(DATABASE_URL);
    url.searchParams.set("application_name", applicationName);
    const connections = async () => (await query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [applicationName])).length;

    const created = await openStore({ connectionString: url.toString() });
    expect(await connections()).toBeGreaterThan(0);
    await created.close();
    await vi.waitFor(async () => expect(await connections()).toBe(0));

    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const given = await openStore({ pool });
      await given.createJob(jobRecord());
      await given.close();
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it("queues a burst larger than its pool for a connection: a busy pool is not an unreachable database", async () => {
    const store = await openStore({ maxConnections: 2, connectTimeoutMs: 100 });
    const jobs = Array.from({ length: 200 }, () => jobRecord());
    // Both connections of the pool stall on a lock for many times the connect timeout.
    const locker = await admin.connect();
    let writes: Promise<PromiseSettledResult<void>[]>;
    try {
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE "${SCHEMA}".jobs IN EXCLUSIVE MODE`);
      writes = Promise.allSettled(jobs.map((job) => store.createJob(job)));
      await sleep(600);
      expect(store.healthy()).toBe(true);
    } finally {
      await locker.query("COMMIT");
      locker.release();
    }
    const results = await writes;
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);
    expect(store.healthy()).toBe(true);
    expect(await query(`SELECT count(*)::int AS count FROM "${SCHEMA}".jobs`)).toEqual([{ count: 200 }]);
  });

  it("does not count a given pool that stayed busy past its own connectionTimeoutMillis as an unreachable database", async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, connectionTimeoutMillis: 100 });
    try {
      const store = await openStore({ pool });
      const locker = await admin.connect();
      let writes: Promise<PromiseSettledResult<void>[]>;
      try {
        await locker.query("BEGIN");
        await locker.query(`LOCK TABLE "${SCHEMA}".jobs IN EXCLUSIVE MODE`);
        writes = Promise.allSettled(Array.from({ length: 5 }, () => store.createJob(jobRecord())));
        await sleep(300);
      } finally {
        await locker.query("COMMIT");
        locker.release();
      }
      const failed = (await writes).flatMap((result) => (result.status === "rejected" ? [result.reason as Error] : []));
      expect(failed).toHaveLength(4);
      for (const error of failed) {
        expect(error.name).toBe("StoreError");
        expect(error.message).toMatch(/every connection of the pool stayed busy/);
      }
      expect(store.healthy()).toBe(true);
      await store.createJob(jobRecord());
      await store.close();
    } finally {
      await pool.end();
    }
  });

  it("still gives up a connection attempt that gets no answer after the connect timeout", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = new URL(DATABASE_URL);
      url.host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const started = performance.now();
      const error = await rejection(openStore({ connectionString: url.toString(), connectTimeoutMs: 200 }));
      expect(performance.now() - started).toBeLessThan(3000);
      expect(error.name).toBe("StoreError");
      expect(error.message).toMatch(/the database is unreachable/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("refuses writes while the database is unreachable and takes them again once it is back", async () => {
    const target = new URL(DATABASE_URL);
    const proxy = await startProxy(target.hostname, Number(target.port || 5432));
    const url = new URL(DATABASE_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const store = await openStore({ connectionString: url.toString() });
    const seen: (string | undefined)[] = [];
    store.watch((ref) => seen.push(ref));
    await store.createJob(jobRecord());

    await proxy.stop();
    const failed = await rejection(store.createJob(jobRecord()));
    expect(failed.name).toBe("StoreError");
    expect(failed.message).toMatch(/the database is unreachable/);
    expect(store.healthy()).toBe(false);
    const refused = await rejection(store.createJob(jobRecord()));
    expect(refused.message).toMatch(/the database is unreachable .*writes resume/);

    const restarted = await startProxy(target.hostname, Number(target.port || 5432), proxy.port);
    try {
      await store.whenHealthy();
      expect(store.healthy()).toBe(true);
      const job = jobRecord();
      await store.createJob(job);
      expect(await store.job(job.ref)).toEqual(job);
      await vi.waitFor(() => expect(seen).toEqual([undefined]), { timeout: 10_000 });
    } finally {
      await store.close();
      await restarted.stop();
    }
  });
});

describe("PostgresJobStore: half-open connections", () => {
  it("gives up a status change on a half-open connection within the query timeout, turns unhealthy, then recovers and checks its listener too", async () => {
    const { proxy, url } = await proxiedDatabase();
    try {
      // One pooled connection, so the status change goes to the frozen one; a listener check and a
      // heartbeat so rare that neither runs meanwhile: only the recovery checks the listener.
      const store = await openStore({ connectionString: url, maxConnections: 1, leaseMs: 3_600_000, queryTimeoutMs: 1000, listenerCheckMs: 3_600_000 });
      const other = await openStore();
      const seen: (string | undefined)[] = [];
      store.watch((ref) => seen.push(ref));
      const job = jobRecord();
      await store.createJob(job);

      proxy.freeze();
      expect(proxy.frozen).toBeGreaterThanOrEqual(2);
      const change = { jobId: job.jobId!, status: "processing" as const, at: Date.now() };
      const failed = await rejection(store.changeStatus(job.ref, change));
      expect(failed.name).toBe("StoreError");
      expect(failed.message).toMatch(/the database is unreachable \(Query read timeout\)/);
      expect(store.healthy()).toBe(false);

      // The probe reaches the database on a new connection; the status changes go on.
      await store.whenHealthy();
      const moved = await store.changeStatus(job.ref, { ...change, status: "completed", event: completedEvent(job.jobId!) });
      expect(moved).toMatchObject({ outcome: "advanced", job: { status: "completed" } });
      expect(await other.job(job.ref)).toMatchObject({ status: "completed" });

      // The recovery also found the listening connection half-open: it listens again.
      await vi.waitFor(() => expect(seen).toContain(undefined), { timeout: 10_000 });
      const fromOther = await processingJob(other);
      await vi.waitFor(() => expect(seen).toContain(fromOther.ref));
    } finally {
      await proxy.close();
    }
  });
});

describe("PostgresJobStore: a completion whose answer is lost", () => {
  /** A store whose one pooled connection (and listener) can lose its answers, another one beside it, and what `store` tells late. */
  async function storeLosingAnswers(overrides: Partial<PostgresJobStoreOptions> = {}) {
    const { proxy, url } = await proxiedDatabase();
    const store = await openStore({ connectionString: url, maxConnections: 1, leaseMs: 3_600_000, queryTimeoutMs: 1000, listenerCheckMs: 3_600_000, ...overrides });
    const other = await openStore();
    const late: [string, Transcript][] = [];
    store.watchLateCompletions((ref, transcript) => late.push([ref, transcript]));
    return { proxy, store, other, late };
  }

  it("tells of a full answer its status change stored though its answer was lost, once, before it counts as healthy again", async () => {
    const { proxy, store, other, late } = await storeLosingAnswers();
    try {
      const job = jobRecord();
      await store.createJob(job);
      const transcript = transcriptOf(job);
      const change = { jobId: job.jobId!, status: "completed" as const, at: Date.now(), event: completedEvent(job.jobId!), transcript };

      proxy.dropReplies();
      const failed = await rejection(store.changeStatus(job.ref, change));
      expect(failed.name).toBe("StoreError");
      expect(failed.message).toMatch(/the database is unreachable \(Query read timeout\)/);
      // It did commit.
      expect(await other.job(job.ref)).toMatchObject({ status: "completed", processed: true });
      expect(await other.readTranscript(job.ref)).toEqual(transcript);
      expect(late).toEqual([]);

      await store.whenHealthy();
      expect(late).toEqual([[job.ref, transcript]]);
      // The provider's redelivery finds the job done.
      expect(await store.changeStatus(job.ref, change)).toMatchObject({ outcome: "unchanged", job: { processed: true } });
      expect(late).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("tells of a delivery it completed though the answer was lost, and of none that failed before reaching the database", async () => {
    const { proxy, store, other, late } = await storeLosingAnswers();
    try {
      const [job, never] = [jobRecord(), jobRecord()];
      const [deliveryId, neverId] = [await terminalDelivery(store, job), await terminalDelivery(store, never)];
      const transcript = transcriptOf(job);

      proxy.dropReplies();
      const failed = await rejection(store.completeDelivery(deliveryId, { kind: "completed", transcript }, Date.now()));
      expect(failed.message).toMatch(/the database is unreachable \(Query read timeout\)/);
      expect(await other.job(job.ref)).toMatchObject({ processed: true });
      await store.whenHealthy();
      expect(late).toEqual([[job.ref, transcript]]);
      // The worker's retry finds the delivery gone.
      expect(await store.claim(deliveryId)).toBeUndefined();

      // Refused at the door: nothing committed, nothing told; the retry completes it as usual.
      proxy.cut();
      const refused = await rejection(store.completeDelivery(neverId, { kind: "completed", transcript: transcriptOf(never) }, Date.now()));
      expect(refused.message).toMatch(/the database is unreachable/);
      proxy.restore();
      await store.whenHealthy();
      expect(await other.job(never.ref)).toMatchObject({ processed: false });
      expect(await store.claim(neverId)).toMatchObject({ id: neverId });
      expect(await store.completeDelivery(neverId, { kind: "completed", transcript: transcriptOf(never) }, Date.now())).toBe(true);
      expect(late).toEqual([[job.ref, transcript]]);
    } finally {
      await proxy.close();
    }
  });
  it("tells of no job another instance completed while its own write of it failed", async () => {
    const { proxy, store, other, late } = await storeLosingAnswers();
    try {
      const job = jobRecord();
      await store.createJob(job);
      const change = { jobId: job.jobId!, status: "completed" as const, at: Date.now(), event: completedEvent(job.jobId!), transcript: transcriptOf(job) };

      // Refused at the door (it never reached the database); the copy that reached another instance stores it.
      proxy.cut();
      expect((await rejection(store.changeStatus(job.ref, change))).message).toMatch(/the database is unreachable/);
      expect(await other.changeStatus(job.ref, change)).toMatchObject({ outcome: "advanced", job: { processed: true } });
      proxy.restore();
      await store.whenHealthy();
      expect(late).toEqual([]);
      expect(await store.changeStatus(job.ref, change)).toMatchObject({ outcome: "unchanged" });
      expect(late).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("waits for a statement the database still runs after its client gave up (blocked by a lock) and tells of it once it commits", async () => {
    // Heartbeats every 200 ms: they look again at what the probe found still running.
    const { proxy, store, other, late } = await storeLosingAnswers({ queryTimeoutMs: 300, leaseMs: 600 });
    const locker = new pg.Client({ connectionString: DATABASE_URL });
    await locker.connect();
    try {
      const job = jobRecord();
      await store.createJob(job);
      const transcript = transcriptOf(job);
      await locker.query("BEGIN");
      await locker.query(`SELECT 1 FROM "${SCHEMA}".jobs WHERE ref = $1 FOR UPDATE`, [job.ref]);

      const failed = await rejection(store.changeStatus(job.ref, { jobId: job.jobId!, status: "completed", at: Date.now(), event: completedEvent(job.jobId!), transcript }));
      expect(failed.message).toMatch(/the database is unreachable \(Query read timeout\)/);
      await store.whenHealthy();
      // Still waiting for the lock: not committed, not told.
      expect(await other.job(job.ref)).toMatchObject({ processed: false });
      expect(late).toEqual([]);

      await locker.query("COMMIT");
      await vi.waitFor(() => expect(late).toEqual([[job.ref, transcript]]), { timeout: 5000 });
      expect(await other.job(job.ref)).toMatchObject({ status: "completed", processed: true });
    } finally {
      await locker.end();
      await proxy.close();
    }
  });
});

describe("postgresStore(): options and secrets", () => {
  it("never shows the connection string's password, in its location or in errors", async () => {
    const closedPort = await unusedPort();
    const secret = "pw-Sup3rSecret";
    const store = postgresStore({ connectionString: `postgres://postgres:${secret}@127.0.0.1:${closedPort}/test`, schema: SCHEMA });
    expect(store.location).toBe(`postgres://127.0.0.1:${closedPort}/test (schema ${SCHEMA})`);
    const error = await rejection(store.open());
    expect(error.name).toBe("StoreError");
    expect(error.message).toMatch(/the database is unreachable \(ECONNREFUSED\)/);
    expect(`${error.message} ${error.stack}`).not.toContain(secret);
  });

  it("describes a given pool by host, port and database", () => {
    const pool = new pg.Pool({ host: "db.internal", port: 6543, database: "app", user: "svc", password: "hunter2" });
    const store = postgresStore({ pool });
    expect(store.location).toBe("postgres://db.internal:6543/app (schema hookscribe)");
    void pool.end();
  });

  it("throws a ConfigurationError for options that cannot work", () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    const invalid = (options: unknown) => {
      try {
        postgresStore(options as Parameters<typeof postgresStore>[0]);
      } catch (error) {
        return error as Error;
      }
      throw new Error("expected a ConfigurationError");
    };
    try {
      expect(invalid({ connectionString: DATABASE_URL, leaseMS: 1000 })).toMatchObject({ name: "ConfigurationError", message: expect.stringContaining('leaseMS: unknown option (did you mean "leaseMs"?)') });
      expect(invalid({})).toMatchObject({ name: "ConfigurationError", message: expect.stringContaining("give exactly one of connectionString and pool") });
      expect(invalid({ connectionString: DATABASE_URL, pool })).toMatchObject({ message: expect.stringContaining("give exactly one of connectionString and pool") });
      expect(invalid({ pool, maxConnections: 3 })).toMatchObject({ message: expect.stringContaining("maxConnections: only sizes the pool made from connectionString") });
      expect(invalid({ pool: { query: 1 } })).toMatchObject({ message: expect.stringContaining("pool: must be a pg.Pool") });
      expect(invalid({ connectionString: DATABASE_URL, schema: 'x"; DROP TABLE jobs; --' })).toMatchObject({ message: expect.stringContaining("schema: must be lower-case letters") });
      expect(invalid({ connectionString: DATABASE_URL, leaseMs: 10 })).toMatchObject({ message: expect.stringContaining("leaseMs: must be >= 100") });
      expect(postgresStore({ connectionString: DATABASE_URL }).location).toMatch(/\(schema hookscribe\)$/);
    } finally {
      void pool.end();
    }
  });
});

/** A TCP proxy to the database, to cut every connection at once and bring the database back. */
async function startProxy(host: string, port: number, listenPort = 0): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
