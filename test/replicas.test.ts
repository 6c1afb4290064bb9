import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type DevProvider, type DevProviderOptions, type TranscriptEngine, startDevProvider } from "../src/dev/dev-provider.js";
import { RoundRobinProxy } from "./round-robin-proxy.js";
import { TcpProxy } from "./tcp-proxy.js";
import { TEST_DATABASE_URL } from "./store-choice.js";

/*
 * Several replicas of a service on one PostgreSQL schema, end to end and all real: each replica is
 * a child process (test/fixtures/replica.ts) with its own receiver, behind a round-robin HTTP
 * proxy that is every replica's publicUrl; the emulator runs here and delivers to the proxy.
 * PostgreSQL is the machine's server (never stopped here: other test files use it at the same
 * time); this file works in a schema of its own, dropped at the end.
 */

const DATABASE_URL = TEST_DATABASE_URL;
const SCHEMA = `replicas_${randomBytes(6).toString("hex")}`;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });

/** Each job's own text, so that a waiter resolved with another job's transcript shows. */
const textOf = (audioUrl: string) => `transcript of ${new URL(audioUrl).pathname.slice(1)}`;
const engine: TranscriptEngine = async (audioUrl) => ({ text: textOf(audioUrl) });
/** The emulator's webhook retries: quick, and long enough in all (about 4.6 s) to outlast a database cut. */
const RETRY_DELAYS_MS = [20, 50, 100, 200, 300, 400, 500, 500, 500, 500, 500, 500, 500];

type Message = { type: string } & Record<string, unknown>;

/** The test's side of one replica process: its commands and everything it reported. */
class Replica {
  readonly messages: Message[] = [];
  url = "";
  private stderr = "";
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  /** Killed or closed on purpose: its exit is no failure. */
  private ended = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        this.messages.push(JSON.parse(line) as Message);
      } catch {
        this.stderr += `(stdout) ${line}\n`;
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-8000);
    });
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve();
      }),
    );
  }

  static async spawn(name: string, env: Record<string, string>): Promise<Replica> {
    // One process (tsx as a loader, not its CLI, which would run the script in a grandchild).
    const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/replica.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const replica = new Replica(name, child);
    running.push(replica);
    await waitFor(() => replica.of("ready").length > 0, 20_000, `replica ${name} to start`);
    replica.url = replica.of("ready")[0]!.url as string;
    return replica;
  }

  /** Fails when the process ended without being told to. */
  check(): void {
    if (this.exit && !this.ended) {
      throw new Error(`replica ${this.name} exited (code ${this.exit.code}, signal ${this.exit.signal}):\n${this.stderr}`);
    }
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  of(type: string): Message[] {
    return this.messages.filter((message) => message.type === type);
  }

  /** Audio URL → provider job id, of every job it submitted. */
  submitted(): Map<string, string> {
    return new Map(this.of("submitted").map((m) => [m.url as string, m.jobId as string]));
  }

  /** Audio URL → what its `await` resolved with. */
  resolved(): Map<string, { jobId: string; text: string }> {
    return new Map(this.of("resolved").map((m) => [m.url as string, { jobId: m.jobId as string, text: m.text as string }]));
  }

  rejected(): Message[] {
    return this.of("rejected");
  }

  /** Jobs whose `await` settled (resolved or rejected). */
  settled(): number {
    return this.of("resolved").length + this.of("rejected").length;
  }

  /** Job ids of its `'transcript'` events, in order. */
  transcripts(): string[] {
    return this.of("transcript").map((m) => m.jobId as string);
  }

  /** Job ids of the result fetches it sent to the emulator. */
  fetches(): string[] {
    return this.of("fetch").map((m) => m.jobId as string);
  }

  async kill(): Promise<void> {
    this.ended = true;
    if (this.alive) this.child.kill("SIGKILL");
    await this.exited;
  }

  /** `client.close()` in the replica, then its exit: after it, nothing more is reported. */
  async close(): Promise<void> {
    this.ended = true;
    if (!this.alive) return;
    this.send("close");
    await waitFor(() => !this.alive, 15_000, `replica ${this.name} to close`);
    expect(this.exit).toEqual({ code: 0, signal: null });
    expect(this.of("closed")).toHaveLength(1);
  }
}

let running: Replica[] = [];
let dev: DevProvider | undefined;
let proxy: RoundRobinProxy | undefined;
let tcp: TcpProxy | undefined;

/** Polls `predicate` every 20 ms; fails after `timeoutMs`, or at once when a replica died unexpectedly. */
async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    for (const replica of running) replica.check();
    if (await predicate()) return;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startEmulator(options: DevProviderOptions): Promise<DevProvider> {
  dev = await startDevProvider({ retryDelaysMs: RETRY_DELAYS_MS, engine, ...options });
  return dev;
}

/** Replicas started together (they migrate the schema concurrently), each added to the proxy. */
async function startReplicas(specs: { name: string; env?: Record<string, string> }[], common: Record<string, string>): Promise<Replica[]> {
  const replicas = await Promise.all(
    specs.map((spec) =>
      Replica.spawn(spec.name, {
        DEV_URL: dev!.url,
        DEV_API_KEY: dev!.apiKey,
        DEV_SECRET: dev!.webhookSecret,
        PUBLIC_URL: proxy!.url,
        DATABASE_URL,
        SCHEMA,
        ...common,
        ...spec.env,
      }),
    ),
  );
  for (const replica of replicas) proxy!.add(replica.url);
  return replicas;
}

async function query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  return (await admin.query<T>(sql, values)).rows;
}

/** Those of these jobs the shared store has as processed. */
async function processedJobIds(jobIds: string[]): Promise<string[]> {
  const rows = await query<{ job_id: string }>(`SELECT job_id FROM "${SCHEMA}".jobs WHERE job_id = ANY($1::text[]) AND processed`, [jobIds]);
  return rows.map((row) => row.job_id);
}

/** What the shared store holds for these jobs: which are processed, and what is left over. */
async function storeState(jobIds: string[]) {
  const jobs = await query<{ job_id: string; status: string; processed: boolean; has_transcript: boolean }>(
    `SELECT j.job_id, j.status, j.processed, EXISTS (SELECT 1 FROM "${SCHEMA}".transcripts t WHERE t.ref = j.ref) AS has_transcript
       FROM "${SCHEMA}".jobs j WHERE j.job_id = ANY($1::text[])`,
    [jobIds],
  );
  const [deliveries] = await query<{ count: number }>(`SELECT count(*)::int AS count FROM "${SCHEMA}".deliveries WHERE job_id = ANY($1::text[])`, [jobIds]);
  const [deadLetters] = await query<{ count: number }>(`SELECT count(*)::int AS count FROM "${SCHEMA}".dead_letters WHERE job_id = ANY($1::text[])`, [jobIds]);
  return { jobs, deliveries: deliveries!.count, deadLetters: deadLetters!.count };
}

/** Every job processed with its transcript stored, no delivery or dead letter left. */
async function expectAllProcessed(jobIds: string[]): Promise<void> {
  const state = await storeState(jobIds);
  expect(state.jobs).toHaveLength(jobIds.length);
  expect(state.jobs.filter((job) => !(job.processed && job.status === "completed" && job.has_transcript))).toEqual([]);
  expect(state.deliveries).toBe(0);
  expect(state.deadLetters).toBe(0);
}

/** Every job completed at the emulator, its terminal webhook delivered (acked), nothing dead-lettered. */
function expectAllDelivered(jobIds: string[]): void {
  for (const jobId of jobIds) {
    const job = dev!.job(jobId);
    expect(job, jobId).toBeDefined();
    expect({ jobId, status: job!.status, completed: job!.deliveries.completed?.state }).toEqual({ jobId, status: "completed", completed: "delivered" });
  }
  expect(dev!.deadLetters()).toEqual([]);
}

/** Each job's `'transcript'` announcements over the group: job id → names of the replicas that announced it. */
function announcements(counted: { name: string; jobIds: string[] }[]): Map<string, string[]> {
  const byJob = new Map<string, string[]>();
  for (const { name, jobIds } of counted) for (const jobId of jobIds) byJob.set(jobId, [...(byJob.get(jobId) ?? []), name]);
  return byJob;
}

/** Each replica's awaits resolved with the text of their own job, none rejected. */
function expectResolvedRight(replica: Replica, count: number): void {
  expect(replica.rejected()).toEqual([]);
  const submitted = replica.submitted();
  const resolved = replica.resolved();
  expect(resolved.size).toBe(count);
  for (const [url, { jobId, text }] of resolved) {
    expect({ url, jobId, text }).toEqual({ url, jobId: submitted.get(url), text: textOf(url) });
  }
}

afterEach(async () => {
  // Whatever a failed test left running: the processes it started, by their handles.
  await Promise.all(running.map((replica) => replica.kill()));
  running = [];
  await proxy?.close();
  await tcp?.close();
  await dev?.close();
  proxy = tcp = dev = undefined;
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

describe("replicas on one PostgreSQL store, behind a round-robin proxy", () => {
  it("three replicas: 300 jobs each resolve where submitted with their own text, each 'transcript' once in the group, each thin result fetched once", async () => {
    await startEmulator({ processingDelayMs: 20, processingJitterMs: 15, faults: { thinPayloads: true } });
    proxy = await RoundRobinProxy.start();
    const replicas = await startReplicas([{ name: "a" }, { name: "b" }, { name: "c" }], { LEASE_MS: "30000" });
    for (const replica of replicas) replica.send(`submit 100 ${replica.name}`);
    await waitFor(() => replicas.every((replica) => replica.settled() === 100), 45_000, "all 300 jobs to settle");

    for (const replica of replicas) expectResolvedRight(replica, 100);
    const submitter = new Map(replicas.flatMap((replica) => [...replica.submitted().values()].map((jobId) => [jobId, replica.name] as const)));
    const jobIds = [...submitter.keys()];
    expect(jobIds).toHaveLength(300);

    // Closed (drained) before counting, so that a late second announcement would be counted too.
    await Promise.all(replicas.map((replica) => replica.close()));
    const announced = announcements(replicas.map((replica) => ({ name: replica.name, jobIds: replica.transcripts() })));
    expect(replicas.reduce((sum, replica) => sum + replica.transcripts().length, 0)).toBe(300);
    expect([...announced.keys()].sort()).toEqual([...jobIds].sort());
    expect([...announced.values()].filter((names) => names.length !== 1)).toEqual([]);
    // Work was shared, and awaits were resolved by another replica's processing (its NOTIFY).
    for (const replica of replicas) expect(replica.transcripts().length).toBeGreaterThan(0);
    const crossReplica = jobIds.filter((jobId) => announced.get(jobId)![0] !== submitter.get(jobId));
    expect(crossReplica.length).toBeGreaterThan(0);

    // Thin webhooks: each result fetched once, by the replica that processed the job.
    const fetched = replicas.flatMap((replica) => replica.fetches());
    expect([...fetched].sort()).toEqual([...jobIds].sort());
    expect(dev!.stats.statusFetches).toBe(300);
    for (const replica of replicas) for (const jobId of replica.fetches()) expect(announced.get(jobId)).toEqual([replica.name]);

    expectAllDelivered(jobIds);
    const terminalAcks = proxy.log.filter((entry) => entry.status === "completed" && entry.code === 200);
    expect(new Set(terminalAcks.map((entry) => entry.jobId)).size).toBe(300);
    expect(new Set(terminalAcks.map((entry) => entry.backend))).toEqual(new Set(replicas.map((replica) => replica.url)));
    await expectAllProcessed(jobIds);
  });

  it("a replica killed with SIGKILL mid-burst: the deliveries it acked are processed by the others after its lease, and job(id) on a survivor resolves each of its jobs", async () => {
    await startEmulator({ processingDelayMs: 40, processingJitterMs: 35, faults: { thinPayloads: true } });
    proxy = await RoundRobinProxy.start();
    // The victim processes its first 3 deliveries, then stalls on the result fetch of every other
    // one it acks: those stay held by it, unprocessed, until it dies. Its lease is short, so that
    // the others take over soon; theirs is longer, so that a survivor slowed down by a loaded
    // machine keeps what it holds (with 500 ms everywhere, a survivor whose heartbeat is late
    // loses a delivery it is processing to the other, and both announce it).
    const [a, b, victim] = await startReplicas(
      [{ name: "a" }, { name: "b" }, { name: "victim", env: { HANG_FETCH_AFTER: "3", LEASE_MS: "500" } }],
      { LEASE_MS: "5000" },
    );
    for (const replica of [a!, b!, victim!]) replica.send(`submit 40 ${replica.name}`);

    const ackedByVictim = () =>
      proxy!.log.filter((entry) => entry.backend === victim!.url && entry.status === "completed" && entry.code === 200).map((entry) => entry.jobId!);
    const stalledOnVictim = () => ackedByVictim().filter((jobId) => !victim!.transcripts().includes(jobId));
    // Killed once what it announced is stored as processed: the worker announces just before that
    // write, so a crash in between repeats the announcement elsewhere (by design: never lost).
    await waitFor(
      async () =>
        victim!.submitted().size === 40 &&
        victim!.transcripts().length === 3 &&
        stalledOnVictim().length >= 3 &&
        (await processedJobIds(victim!.transcripts())).length === 3,
      20_000,
      "the victim to have submitted its jobs, processed 3 deliveries and stalled on 3 more",
    );
    await victim!.kill();
    // The load balancer's health check takes it out of the rotation.
    proxy.remove(victim!.url);
    const victimJobs = victim!.submitted();
    const victimAnnounced = victim!.transcripts();
    const acked = ackedByVictim();
    const stalled = stalledOnVictim();
    expect(victimAnnounced).toHaveLength(3);
    expect(stalled.length).toBeGreaterThanOrEqual(3);

    await waitFor(() => a!.settled() === 40 && b!.settled() === 40, 30_000, "the survivors' jobs to settle");
    expectResolvedRight(a!, 40);
    expectResolvedRight(b!, 40);

    // Each of the victim's jobs, from a survivor (they share the work of asking).
    [...victimJobs.values()].forEach((jobId, i) => (i % 2 === 0 ? a! : b!).send(`job ${jobId}`));
    await waitFor(() => a!.of("job").length + a!.of("job-failed").length + b!.of("job").length + b!.of("job-failed").length === 40, 20_000, "job(id) of the victim's jobs");
    expect([...a!.of("job-failed"), ...b!.of("job-failed")]).toEqual([]);
    const answered = new Map([...a!.of("job"), ...b!.of("job")].map((m) => [m.jobId as string, m.text as string]));
    for (const [url, jobId] of victimJobs) expect({ jobId, text: answered.get(jobId) }).toEqual({ jobId, text: textOf(url) });

    await Promise.all([a!.close(), b!.close()]);
    const jobIds = [...a!.submitted().values(), ...b!.submitted().values(), ...victimJobs.values()];
    expect(new Set(jobIds).size).toBe(120);
    const announced = announcements([
      { name: "victim", jobIds: victimAnnounced },
      { name: "a", jobIds: a!.transcripts() },
      { name: "b", jobIds: b!.transcripts() },
    ]);
    expect([...announced.keys()].sort()).toEqual([...jobIds].sort());
    expect([...announced.values()].filter((names) => names.length !== 1)).toEqual([]);
    // Every delivery the victim acked was processed once: by it before it died, or by a survivor.
    for (const jobId of acked) expect(announced.get(jobId)).toHaveLength(1);
    for (const jobId of stalled) expect(["a", "b"]).toContain(announced.get(jobId)![0]);
    for (const message of victim!.of("fetch-hung")) expect(["a", "b"]).toContain(announced.get(message.jobId as string)![0]);

    // The victim's stalled fetches never reached the emulator: each result was fetched once.
    const fetched = [...victim!.fetches(), ...a!.fetches(), ...b!.fetches()];
    expect([...fetched].sort()).toEqual([...jobIds].sort());
    expect(dev!.stats.statusFetches).toBe(120);

    expectAllDelivered(jobIds);
    await expectAllProcessed(jobIds);
  });

  it("database cut under one replica mid-burst: 503s, no 200 without a commit, retries land once it is back, and its stranded waiters resolve after the listener reconnects", async () => {
    const server = new URL(DATABASE_URL);
    tcp = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
    const viaProxy = new URL(DATABASE_URL);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(tcp.port);
    // Jobs finish 100–1100 ms after their submit, so that terminal webhooks keep arriving during the cut.
    await startEmulator({ processingDelayMs: 600, processingJitterMs: 500 });
    proxy = await RoundRobinProxy.start();
    const [a, b, c] = await startReplicas(
      // C's holds lapse during the cut (A and B may take its deliveries over); A's and B's do not.
      [{ name: "a" }, { name: "b" }, { name: "c", env: { DATABASE_URL: viaProxy.toString(), PROBE_MS: "50", LEASE_MS: "1000" } }],
      { LEASE_MS: "5000" },
    );
    const replicas = [a!, b!, c!];
    for (const replica of replicas) replica.send(`submit 30 ${replica.name}`);
    // Submitted: the provider answered (C's write of "queued" may still be under way when another
    // replica's news of the job reaches C first).
    await waitFor(() => replicas.every((replica) => replica.submitted().size === 30), 15_000, "all 90 jobs to be submitted");

    // C's own jobs already processed by A or B (their terminal webhook never reached C, so C did
    // not complete them, not even with an answer lost) that C has not resolved: their waiters can
    // only be settled by C reading the store again, since C's listener is cut.
    const strandedOnC = async () => {
      const resolvedOnC = new Set([...c!.resolved().values()].map(({ jobId }) => jobId));
      const reachedC = new Set(proxy!.log.filter((entry) => entry.backend === c!.url && entry.status === "completed").map((entry) => entry.jobId));
      return (await processedJobIds([...c!.submitted().values()])).filter((jobId) => !resolvedOnC.has(jobId) && !reachedC.has(jobId));
    };

    tcp.cut();
    const cutAt = Date.now();
    const logAtCut = proxy.log.length;
    const submitsAtCut = dev!.stats.submits;
    // A submit on C while its database is unreachable: refused before anything leaves the process.
    c!.send("submit 1 during-cut");
    await waitFor(() => c!.rejected().some((m) => (m.url as string).includes("during-cut")), 10_000, "the submit during the cut to be refused");
    const refusedSubmit = c!.rejected().find((m) => (m.url as string).includes("during-cut"))!;
    expect(refusedSubmit).toMatchObject({ name: "StoreError", message: expect.stringMatching(/unreachable/) });
    expect(refusedSubmit.jobId).toBeUndefined();
    expect(dev!.stats.submits).toBe(submitsAtCut);

    // Cut for a second at least, and until C has refused deliveries and has waiters stranded.
    const refusedByC = () => proxy!.log.slice(logAtCut).filter((entry) => entry.backend === c!.url && entry.code === 503);
    let stranded: string[] = [];
    await waitFor(
      async () => {
        if (Date.now() - cutAt < 1000 || refusedByC().length === 0) return false;
        stranded = await strandedOnC();
        return stranded.length > 0;
      },
      3000,
      "C to answer 503 and to have waiters for jobs processed elsewhere",
    );
    // What C answered to deliveries that reached it while cut (answered so far): 503, never a 200,
    // which would need a commit (a delivery still unanswered may be stored after the restore).
    const answeredWhileCut = proxy.log
      .slice(logAtCut)
      .filter((entry) => entry.backend === c!.url && entry.code !== 0)
      .map((entry) => entry.code);
    tcp.restore();
    expect(answeredWhileCut.length).toBeGreaterThan(0);
    expect(answeredWhileCut.filter((code) => code !== 503)).toEqual([]);

    await waitFor(() => a!.settled() === 30 && b!.settled() === 30 && c!.settled() === 31, 20_000, "every job to settle after the database is back");
    expectResolvedRight(a!, 30);
    expectResolvedRight(b!, 30);
    expect(c!.rejected()).toEqual([refusedSubmit]);
    const submittedOnC = c!.submitted();
    const resolvedOnC = c!.resolved();
    expect(resolvedOnC.size).toBe(30);
    for (const [url, { jobId, text }] of resolvedOnC) expect({ url, jobId, text }).toEqual({ url, jobId: submittedOnC.get(url), text: textOf(url) });
    const resolvedIdsOnC = new Set([...resolvedOnC.values()].map(({ jobId }) => jobId));
    for (const jobId of stranded) expect(resolvedIdsOnC.has(jobId), jobId).toBe(true);

    // What C answered while cut: 503 (refused, nothing stored); the emulator retried each and it landed.
    const refused = refusedByC();
    expect(refused.length).toBeGreaterThan(0);
    expect(c!.of("delivery").filter((m) => m.statusCode === 503).length).toBeGreaterThan(0);
    for (const m of c!.of("delivery")) {
      if (m.statusCode === 503) expect(m.outcome).toBe("refused");
      if (m.statusCode === 200) expect(["accepted", "duplicate"]).toContain(m.outcome);
    }
    const jobIds = replicas.flatMap((replica) => [...replica.submitted().values()]);
    await waitFor(() => jobIds.every((jobId) => dev!.job(jobId)?.deliveries.completed?.state === "delivered"), 10_000, "every terminal webhook to be acked");
    for (const entry of refused.filter((entry) => entry.status === "completed")) {
      const delivery = dev!.job(entry.jobId!)!.deliveries.completed!;
      expect(delivery.state).toBe("delivered");
      expect(delivery.attempts).toBeGreaterThan(1);
      expect(proxy.log.some((later) => later.seq > entry.seq && later.jobId === entry.jobId && later.status === "completed" && later.code === 200)).toBe(true);
    }

    // C takes deliveries again (a redelivery lands on each replica in turn; C's is a duplicate, acked after its write).
    const logBeforeRedeliveries = proxy.log.length;
    for (let i = 0; i < 3; i++) await dev!.redeliver(jobIds[0]!);
    const redeliveries = proxy.log.slice(logBeforeRedeliveries);
    expect(redeliveries.map((entry) => entry.code)).toEqual([200, 200, 200]);
    expect(new Set(redeliveries.map((entry) => entry.backend))).toEqual(new Set(replicas.map((replica) => replica.url)));

    // C's listener is back: jobs submitted on C now and processed elsewhere resolve on C.
    c!.send("submit 9 after");
    await waitFor(() => c!.settled() === 40, 15_000, "C's jobs after the cut to settle");
    const afterJobs = [...c!.submitted()].filter(([url]) => url.includes("/after-"));
    expect(afterJobs).toHaveLength(9);
    for (const [url, jobId] of afterJobs) expect(c!.resolved().get(url)).toEqual({ jobId, text: textOf(url) });

    await Promise.all(replicas.map((replica) => replica.close()));
    const allJobIds = [...jobIds, ...afterJobs.map(([, jobId]) => jobId)];
    const announced = announcements(replicas.map((replica) => ({ name: replica.name, jobIds: replica.transcripts() })));
    // Each job announced once, a completion C committed as its database was cut (the commit's
    // answer lost) too: C finds it once the database answers again.
    expect([...announced.keys()].filter((jobId) => !allJobIds.includes(jobId))).toEqual([]);
    expect(allJobIds.filter((jobId) => !announced.has(jobId))).toEqual([]);
    expect([...announced.values()].filter((names) => names.length !== 1)).toEqual([]);
    for (const jobId of stranded) expect(announced.get(jobId)).not.toEqual(["c"]);
    expect(afterJobs.some(([, jobId]) => announced.get(jobId)![0] !== "c")).toBe(true);

    // Every webhook acked with a 200 belongs to a job stored as processed; nothing half-written.
    const acked = new Set(proxy.log.filter((entry) => entry.code === 200 && entry.status === "completed").map((entry) => entry.jobId!));
    expect([...acked].sort()).toEqual([...allJobIds].sort());
    expect(dev!.jobs()).toHaveLength(99);
    expectAllDelivered(allJobIds);
    await expectAllProcessed(allJobIds);
    const [orphans] = await query<{ count: number }>(`SELECT count(*)::int AS count FROM "${SCHEMA}".jobs WHERE job_id IS NULL`);
    expect(orphans!.count).toBe(0);
  });
});
