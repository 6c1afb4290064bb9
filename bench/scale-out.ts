import { randomBytes } from "node:crypto";
import { cp, readFile, readdir, rm, stat } from "node:fs/promises";
import http from "node:http";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { Transcriber, genericProvider } from "hookscribe";
import { postgresStore } from "hookscribe/postgres";
import { transcriptDir } from "../src/store/transcript-files.js";
import { type Delivery, type Distribution, distribution, median, signedCompletedDelivery, tempDir } from "./helpers.js";
import { post, runLoad } from "./load-generator.js";
import { type ServerReport, type ServerUnderTest, startServerChild } from "./servers/child-protocol.js";
import type { HookscribeReceiverConfig } from "./servers/hookscribe-receiver.js";
import { type PendingJob, buildStore, countResolvedOnDisk } from "./store-fixture.js";
import { acked200, deliveriesCell, p99RangeCell, sent, statusNote } from "./load-runs.js";
import { num, renderTable, verdict } from "./table.js";

/**
 * h. Scaling out on PostgreSQL:
 * (a) one replica on the JSON store vs one on Postgres, the load of section b;
 * (b) three replicas on one Postgres schema: how long after a webhook lands on one replica the
 *     `await` of the job in another resolves, and what the three process together;
 * (c) what the store costs per job, in rows and bytes.
 * Every replica is a `Transcriber` in a child process with its own receiver (bench/servers/hookscribe-receiver.ts).
 */

const DATABASE_URL = process.env.HOOKSCRIBE_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** Finished jobs already in each store, besides the pending ones the load completes. */
const BALLAST = 10_000;
/** Deliveries per round of (a); each round completes other pending jobs of the same store. */
const DELIVERIES = 4_000;
/** Rounds of (a), JSON and Postgres interleaved; the medians count (p99 swings between runs). */
const ROUNDS = 3;
const CONNECTIONS = 64;
const REPLICAS = 3;
/** Jobs of the cross-replica measurement, their webhooks sent one every `CROSS_INTERVAL_MS` (50/s, well below what one replica takes, so that the delay is not a queue). */
const CROSS_JOBS = 200;
/** Jobs sent the same way first and not counted, so that the replicas' code paths are warm, as in a service that runs. */
const CROSS_WARMUP = 30;
const CROSS_INTERVAL_MS = 20;
/** Longest wait for the last cross-replica await, so a stranded waiter fails the figure instead of hanging the run. */
const CROSS_TIMEOUT_MS = 30_000;
/** Deliveries the three replicas take together, round-robin. */
const GROUP_DELIVERIES = 4_500;
/** Any http(s) URL: the fake provider of the cross-replica measurement never downloads it. */
const AUDIO_URL = "https://audio.example.com/bench.wav";

export const scaleOutGoals = {
  /** Submitted on one replica, webhook to another: from sending the webhook to the await resolving, p99 ms at most. */
  maxCrossReplicaP99Ms: 50,
};

/** One load run against one or more replicas. */
export interface ReplicaRun {
  deliveries: number;
  /** Acked per second at the sender. */
  perSecond: number;
  /** Ack latency at the sender, ms. */
  latency: Distribution;
  /** Answers by HTTP status; `0`: no answer within 30 s, or a connection error. */
  statuses: Record<number, number>;
  /** Jobs processed per second: from the first send until the last replica's last 'transcript' event. */
  processedPerSecond: number;
  /** 'transcript' events of all replicas. */
  resolvedEvents: number;
  /** Delivered jobs the store shows completed and processed once the replicas shut down. */
  resolvedInStore: number;
}

/** One store over its rounds: medians of the runs' figures, and every run as measured. */
export interface ReplicaRow {
  name: string;
  runs: ReplicaRun[];
  perSecond: number;
  processedPerSecond: number;
  p50: number;
  p99: number;
  /** Worst single ack over all runs, ms. */
  max: number;
}

export interface CrossReplicaResult {
  jobs: number;
  /** Awaits that resolved within the timeout. */
  resolved: number;
  /** Webhooks answered 200 by the replica they were sent to. */
  acked: number;
  intervalMs: number;
  /** From sending the webhook to replica B until the await in replica A resolved, ms (both read in A's process). */
  delay: Distribution;
  /** From sending the webhook to B's 200, ms. */
  ack: Distribution;
  /** From B's 200 until A's await resolved, ms. */
  afterAck: Distribution;
}

/** What a store holds per job: `record` (the job), `transcript`, both together for a finished job. */
export interface StoreCost {
  name: string;
  jobs: number;
  transcripts: number;
  /** Bytes per job record: the document / jobs, or the jobs table with its indexes / rows. */
  recordBytes: number;
  /** Bytes per transcript: the files / count, or the transcripts table with its index / rows. */
  transcriptBytes: number;
  /** A finished job: its record and its transcript. */
  perFinishedJob: number;
  /** Rows of a finished job (Postgres): its job row and its transcript row; a full delivery makes no delivery row (a thin one's is deleted once processed). */
  rowsPerFinishedJob?: number;
  /** Bytes of everything else, in all (journal and lock file; deliveries, dead letters, schema version). */
  otherBytes: number;
  totalBytes: number;
}

export interface ScaleOutResult {
  /** 1-minute load average of the machine before and after the section: other processes disturb the timings. */
  loadAverage: { before: number; after: number };
  ballast: number;
  connections: number;
  rounds: number;
  single: { json: ReplicaRow; postgres: ReplicaRow };
  crossReplica: CrossReplicaResult;
  group: ReplicaRow & { replicas: number };
  cost: { json: StoreCost; jsonOnDisk: StoreCost; postgres: StoreCost; postgresVacuumed: StoreCost };
}

export async function scaleOut(): Promise<ScaleOutResult> {
  const loadBefore = loadavg()[0]!;
  const dir = await tempDir("scale-out");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const run = randomBytes(4).toString("hex");
  const schemas = { single: `bench_${run}_single`, group: `bench_${run}_group` };
  const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const postgres = (schema: string) => ({ connectionString: DATABASE_URL, schema });
  try {
    await pool.query("SELECT 1").catch((error: unknown) => {
      throw new Error(`h needs PostgreSQL at ${DATABASE_URL.replace(/\/\/[^@/]*@/, "//…@")} (HOOKSCRIBE_BENCH_DATABASE_URL): ${(error as Error).message}`);
    });

    // (a) Both stores hold the same jobs; the JSON one is copied for each round, the Postgres one
    // keeps its state and each round completes the next slice of its pending jobs.
    const template = join(dir, "template");
    const jsonPending = await buildStore(join(template, "store.json"), { processed: BALLAST, pending: ROUNDS * DELIVERIES });
    const pgPending = await buildStore(postgresStore(postgres(schemas.single)), { processed: BALLAST, pending: ROUNDS * DELIVERIES });
    const deliveriesOf = (jobs: readonly PendingJob[]) => jobs.map((job) => signedCompletedDelivery(webhookSecret, `/webhooks/generic/${job.ref}/${job.token}`, job.jobId));
    const json: ReplicaRun[] = [];
    const pgRuns: ReplicaRun[] = [];
    let jsonCosts: { apparent: StoreCost; onDisk: StoreCost } | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const slice = (jobs: readonly PendingJob[]) => jobs.slice(round * DELIVERIES, (round + 1) * DELIVERIES);
      const copy = join(dir, `round-${round}`);
      await cp(template, copy, { recursive: true });
      const storePath = join(copy, "store.json");
      try {
        const jobs = slice(jsonPending);
        const load = await loadReplicas(await startReplicas([{ storePath, fsync: false, webhookSecret, expected: jobs.length }]), deliveriesOf(jobs));
        json.push({ ...load, resolvedInStore: await countResolvedOnDisk(storePath, jobs.map((job) => job.ref)) });
        // The last copy holds what the Postgres schema holds at the end: (c) compares the two.
        if (round === ROUNDS - 1) jsonCosts = await jsonStoreCost(storePath);
      } finally {
        await rm(copy, { recursive: true, force: true });
      }
      const jobs = slice(pgPending);
      const load = await loadReplicas(await startReplicas([{ postgres: postgres(schemas.single), webhookSecret, expected: jobs.length }]), deliveriesOf(jobs));
      pgRuns.push({ ...load, resolvedInStore: await countResolvedInDb(pool, schemas.single, jobs.map((job) => job.ref)) });
    }
    const postgresCost = await postgresStoreCost(pool, schemas.single, "Postgres (tables and indexes as left)");
    await pool.query(`VACUUM FULL ${tablesOf(schemas.single).join(", ")}`);
    const postgresVacuumed = await postgresStoreCost(pool, schemas.single, "Postgres after VACUUM FULL");

    // (b) Three replicas on one schema holding as many finished jobs as in (a), and the pending
    // ones of the group's load: first the cross-replica delays (the group otherwise idle), then the load.
    const groupPending = await buildStore(postgresStore(postgres(schemas.group)), { processed: BALLAST, pending: GROUP_DELIVERIES });
    const share = (total: number, replica: number) => Math.max(0, Math.ceil((total - replica) / REPLICAS));
    const replicas = await startReplicas(
      Array.from({ length: REPLICAS }, (_, replica) => ({
        postgres: postgres(schemas.group),
        webhookSecret,
        expected: share(GROUP_DELIVERIES, replica) + share(CROSS_WARMUP + CROSS_JOBS, replica),
      })),
    );
    let crossReplica: CrossReplicaResult;
    let crossEvents: number;
    try {
      ({ crossEvents, ...crossReplica } = await crossReplicaDelays(
        replicas.map((replica) => replica.url),
        postgres(schemas.group),
        webhookSecret,
      ));
    } catch (error) {
      await Promise.allSettled(replicas.map((replica) => replica.finish()));
      throw error;
    }
    const groupLoad = await loadReplicas(replicas, deliveriesOf(groupPending));
    const groupRun = { ...groupLoad, resolvedInStore: await countResolvedInDb(pool, schemas.group, groupPending.map((job) => job.ref)) };
    // The replicas' events count the cross-replica jobs (warm-up included) too.
    groupRun.resolvedEvents -= crossEvents;

    return {
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
      ballast: BALLAST,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      single: { json: toRow("JSON store (baseline)", json), postgres: toRow("Postgres", pgRuns) },
      crossReplica,
      group: { ...toRow(`${REPLICAS} replicas, Postgres`, [groupRun]), replicas: REPLICAS },
      cost: { json: jsonCosts!.apparent, jsonOnDisk: jsonCosts!.onDisk, postgres: postgresCost, postgresVacuumed },
    };
  } finally {
    for (const schema of Object.values(schemas)) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts one child replica per config, at once; if one fails, the others are shut down. */
async function startReplicas(configs: readonly HookscribeReceiverConfig[]): Promise<ServerUnderTest[]> {
  const script = new URL("./servers/hookscribe-receiver.ts", import.meta.url);
  const started = await Promise.allSettled(configs.map((config) => startServerChild(script, config)));
  const servers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await Promise.allSettled(servers.map((server) => server.finish()));
    throw failed.reason;
  }
  return servers;
}

/**
 * Sends the load round-robin to the replicas (delivery `i` to replica `i % n`, the `CONNECTIONS`
 * connections split between them), then has each finish its work and exit.
 */
async function loadReplicas(servers: readonly ServerUnderTest[], deliveries: readonly Delivery[]): Promise<Omit<ReplicaRun, "resolvedInStore">> {
  const startedAt = Date.now();
  let load;
  let reports: ServerReport[];
  try {
    load = await runLoad(
      servers.map((server) => server.url),
      deliveries,
      CONNECTIONS,
    );
  } finally {
    reports = await Promise.all(servers.map((server) => server.finish()));
  }
  const lastResolvedAt = Math.max(...reports.map((report) => report.lastResolvedAt ?? Number.NaN));
  return {
    deliveries: load.deliveries,
    perSecond: load.perSecond,
    latency: load.latency,
    statuses: load.statuses,
    processedPerSecond: (deliveries.length / (lastResolvedAt - startedAt)) * 1000,
    resolvedEvents: reports.reduce((total, report) => total + (report.resolved ?? 0), 0),
  };
}

/**
 * (b) Replica A is a `Transcriber` in this process on the group's schema (so that both ends of
 * each delay are read on one clock); it submits `CROSS_JOBS` jobs to a fake provider that only
 * answers the submit. Each job's signed `completed` webhook then goes to one of the child
 * replicas (B, in turn), one every `CROSS_INTERVAL_MS`; the delay runs from sending it until A's
 * `await` resolves. The first `CROSS_WARMUP` jobs only warm the replicas up.
 */
async function crossReplicaDelays(
  replicaUrls: readonly string[],
  store: { connectionString: string; schema: string },
  webhookSecret: string,
): Promise<CrossReplicaResult & { crossEvents: number }> {
  const webhookPaths = new Map<string, string>();
  const provider = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const { webhook_url } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { webhook_url: string };
      const jobId = `job_cross_${webhookPaths.size}`;
      webhookPaths.set(jobId, new URL(webhook_url).pathname);
      response.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ job_id: jobId, status: "queued" }));
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, "127.0.0.1", resolve));
  const { port } = provider.address() as { port: number };
  const client = new Transcriber({
    provider: genericProvider({ baseUrl: `http://127.0.0.1:${port}`, apiKey: "bench", webhookSecret }),
    receiver: { port: 0 },
    store: postgresStore(store),
  });
  const agent = new http.Agent({ keepAlive: true });
  try {
    await client.start();
    const resolvedAt = new Map<string, number>();
    const handles = Array.from({ length: CROSS_WARMUP + CROSS_JOBS }, () => client.transcribe(AUDIO_URL));
    for (const handle of handles) {
      Promise.resolve(handle).then(
        (transcript) => resolvedAt.set(transcript.jobId, performance.now()),
        () => undefined,
      );
    }
    // `submitted` resolves once the job is stored as queued with its id: nothing is in flight any more.
    const jobIds = await Promise.all(handles.map((handle) => handle.submitted));
    const sends = jobIds.map((jobId, i) => ({
      jobId,
      target: replicaUrls[i % replicaUrls.length]!,
      delivery: signedCompletedDelivery(webhookSecret, webhookPaths.get(jobId)!, jobId),
      sentAt: Number.NaN,
      ackedAt: Number.NaN,
      status: 0,
    }));
    const started = performance.now();
    await Promise.all(
      sends.map(async (send, i) => {
        await sleep(Math.max(0, started + i * CROSS_INTERVAL_MS - performance.now()));
        send.sentAt = performance.now();
        send.status = await post(agent, new URL(send.delivery.path, send.target), send.delivery);
        send.ackedAt = performance.now();
      }),
    );
    const deadline = performance.now() + CROSS_TIMEOUT_MS;
    while (resolvedAt.size < sends.length && performance.now() < deadline) await sleep(10);
    const measured = sends.slice(CROSS_WARMUP);
    const resolved = measured.filter((send) => resolvedAt.has(send.jobId));
    return {
      jobs: measured.length,
      resolved: resolved.length,
      acked: measured.filter((send) => send.status === 200).length,
      intervalMs: CROSS_INTERVAL_MS,
      delay: distribution(resolved.map((send) => resolvedAt.get(send.jobId)! - send.sentAt)),
      ack: distribution(measured.map((send) => send.ackedAt - send.sentAt)),
      afterAck: distribution(resolved.map((send) => resolvedAt.get(send.jobId)! - send.ackedAt)),
      // Each webhook a replica took is one 'transcript' event in the group.
      crossEvents: sends.filter((send) => send.status === 200).length,
    };
  } finally {
    agent.destroy();
    await client.close();
    await new Promise((resolve) => provider.close(resolve));
  }
}

const TABLES = ["jobs", "transcripts", "deliveries", "dead_letters", "schema_version"] as const;
const tablesOf = (schema: string) => TABLES.map((table) => `"${schema}".${table}`);

/** How many of `refs` the schema shows completed and processed. */
async function countResolvedInDb(pool: pg.Pool, schema: string, refs: readonly string[]): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM "${schema}".jobs WHERE ref = ANY($1::text[]) AND status = 'completed' AND processed`,
    [refs],
  );
  return rows[0]!.count;
}

/** (c) Rows and bytes of each table of the schema (with its indexes and TOAST), per job and per transcript. */
async function postgresStoreCost(pool: pg.Pool, schema: string, name: string): Promise<StoreCost> {
  const sizes: Record<string, { rows: number; bytes: number }> = {};
  for (const table of TABLES) {
    const { rows } = await pool.query<{ rows: number; bytes: string }>(
      `SELECT (SELECT count(*)::int FROM "${schema}".${table}) AS rows, pg_total_relation_size('"${schema}".${table}'::regclass) AS bytes`,
    );
    sizes[table] = { rows: rows[0]!.rows, bytes: Number(rows[0]!.bytes) };
  }
  const { jobs, transcripts } = sizes as Record<(typeof TABLES)[number], { rows: number; bytes: number }>;
  const { rows } = await pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${schema}".jobs j JOIN "${schema}".transcripts t USING (ref) WHERE j.processed`);
  const finished = rows[0]!.count;
  const recordBytes = jobs.bytes / jobs.rows;
  const transcriptBytes = transcripts.bytes / transcripts.rows;
  const otherBytes = ["deliveries", "dead_letters", "schema_version"].reduce((total, table) => total + sizes[table]!.bytes, 0);
  return {
    name,
    jobs: jobs.rows,
    transcripts: transcripts.rows,
    recordBytes,
    transcriptBytes,
    perFinishedJob: recordBytes + transcriptBytes,
    rowsPerFinishedJob: (finished + transcripts.rows + sizes.deliveries!.rows) / finished,
    otherBytes,
    totalBytes: Object.values(sizes).reduce((total, size) => total + size.bytes, 0),
  };
}

/** (c) The JSON store after close(): the document per job, the transcript log per transcript, by size and by blocks on disk. */
async function jsonStoreCost(storePath: string): Promise<{ apparent: StoreCost; onDisk: StoreCost }> {
  const document = await stat(storePath);
  const { jobs } = JSON.parse(await readFile(storePath, "utf8")) as { jobs: Record<string, { transcriptAt?: unknown }> };
  const jobCount = Object.keys(jobs).length;
  // Transcripts share segment files: count them by the jobs that refer to one.
  const transcriptCount = Object.values(jobs).filter((job) => job.transcriptAt !== undefined).length;
  const files = async (path: string): Promise<{ count: number; bytes: number; blocks: number }> => {
    const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => []);
    let count = 0;
    let bytes = 0;
    let blocks = 0;
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const info = await stat(join(entry.parentPath, entry.name));
      count++;
      bytes += info.size;
      blocks += info.blocks * 512;
    }
    return { count, bytes, blocks };
  };
  const storeDir = join(storePath, "..");
  const all = await files(storeDir);
  const transcripts = await files(transcriptDir(storePath));
  const cost = (name: string, documentBytes: number, transcriptBytes: number, allBytes: number): StoreCost => ({
    name,
    jobs: jobCount,
    transcripts: transcriptCount,
    recordBytes: documentBytes / jobCount,
    transcriptBytes: transcriptBytes / transcriptCount,
    perFinishedJob: documentBytes / jobCount + transcriptBytes / transcriptCount,
    otherBytes: allBytes - documentBytes - transcriptBytes,
    totalBytes: allBytes,
  });
  return {
    apparent: cost("JSON store: document + transcript log (baseline)", document.size, transcripts.bytes, all.bytes),
    onDisk: cost("JSON store, blocks on disk", document.blocks * 512, transcripts.blocks, all.blocks),
  };
}

function toRow(name: string, runs: ReplicaRun[]): ReplicaRow {
  return {
    name,
    runs,
    perSecond: median(runs.map((run) => run.perSecond)),
    processedPerSecond: median(runs.map((run) => run.processedPerSecond)),
    p50: median(runs.map((run) => run.latency.p50)),
    p99: median(runs.map((run) => run.latency.p99)),
    max: Math.max(...runs.map((run) => run.latency.max)),
  };
}

const resolvedEvents = (row: ReplicaRow) => row.runs.reduce((total, run) => total + run.resolvedEvents, 0);
const resolvedInStore = (row: ReplicaRow) => row.runs.reduce((total, run) => total + run.resolvedInStore, 0);
const allResolved = (row: ReplicaRow) => acked200(row) === sent(row) && resolvedEvents(row) === sent(row) && resolvedInStore(row) === sent(row);

/** Whether every figure with a goal met it, and every delivery was acked and resolved once. */
export function scaleOutChecks(result: ScaleOutResult) {
  const { single, crossReplica, group } = result;
  return {
    crossReplicaP99: crossReplica.resolved === crossReplica.jobs && crossReplica.delay.p99 < scaleOutGoals.maxCrossReplicaP99Ms,
    crossReplicaAllResolved: crossReplica.resolved === crossReplica.jobs && crossReplica.acked === crossReplica.jobs,
    singleJsonAllResolved: allResolved(single.json),
    singlePostgresAllResolved: allResolved(single.postgres),
    groupAllResolved: allResolved(group),
  };
}

export function scaleOutTable(result: ScaleOutResult): string {
  const { single, crossReplica, group, cost } = result;
  const checks = scaleOutChecks(result);
  const baseline = single.json;
  const replicaCells = (row: ReplicaRow) => [
    row.name,
    deliveriesCell(row),
    num(row.perSecond),
    num(row.perSecond / baseline.perSecond, 2),
    num(row.processedPerSecond),
    num(row.p50, 1),
    num(row.p99, 1),
    p99RangeCell(row),
    num(row.p99 / baseline.p99, 1),
    num(row.max),
    num(acked200(row)),
    `${num(resolvedEvents(row))} / ${num(resolvedInStore(row))}`,
  ];
  const singleTable = renderTable(
    `h(a). One replica, JSON store vs Postgres: ${num(DELIVERIES)} signed completed deliveries of distinct jobs per round, ${result.connections} keep-alive connections, ` +
      `store holding ${num(result.ballast)} finished + ${num(ROUNDS * DELIVERIES)} pending jobs; replica in a child process; medians of ${result.rounds} rounds`,
    ["store", "deliveries", "deliveries/s", "x JSON", "processed/s", "p50 ms", "p99 ms", "p99 range", "p99 x JSON", "max ms", "200s", "resolved (events / in store)"],
    [replicaCells(single.json), replicaCells(single.postgres)],
    [
      `Postgres store: default pool (10 connections + 1 listening), database ${new URL(DATABASE_URL).host}; every delivery acked and resolved: JSON ${verdict(checks.singleJsonAllResolved)}, Postgres ${verdict(checks.singlePostgresAllResolved)}.`,
      "processed/s: from the first send until the last 'transcript' event (a full delivery's job is stored processed and announced before its ack).",
      "Each JSON round runs on a fresh copy of the store; the Postgres schema keeps what earlier rounds processed, each round completing other pending jobs.",
      `Machine load (1-minute average) ${num(result.loadAverage.before, 1)} before the section, ${num(result.loadAverage.after, 1)} after, on ${cpus().length} CPUs.`,
      ...[single.json, single.postgres].filter((row) => acked200(row) !== sent(row)).map(statusNote),
    ],
  );

  const onePg = single.postgres;
  const cross = crossReplica;
  const crossTable = renderTable(
    `h(b). ${group.replicas} replicas on one Postgres schema (child processes, each a Transcriber with its own receiver, addressed round-robin), ` +
      `store holding ${num(result.ballast)} finished jobs besides the pending ones`,
    ["figure", "measured", "baseline / goal", "verdict"],
    [
      [`cross-replica resolve delay p50 ms (${num(cross.jobs)} jobs, one webhook / ${cross.intervalMs} ms)`, num(cross.delay.p50, 1), "", ""],
      ["cross-replica resolve delay p99 ms", num(cross.delay.p99, 1), `< ${scaleOutGoals.maxCrossReplicaP99Ms}`, verdict(checks.crossReplicaP99)],
      ["cross-replica resolve delay max ms", num(cross.delay.max, 1), "", ""],
      ["  of which B's ack p50 / p99 ms", `${num(cross.ack.p50, 1)} / ${num(cross.ack.p99, 1)}`, "", ""],
      ["  of which ack to A's await p50 / p99 ms", `${num(cross.afterAck.p50, 1)} / ${num(cross.afterAck.p99, 1)}`, "", ""],
      ["awaits resolved / webhooks acked", `${num(cross.resolved)} / ${num(cross.acked)}`, `${num(cross.jobs)}`, verdict(checks.crossReplicaAllResolved)],
      [
        `group deliveries/s acked (${num(group.runs[0]!.deliveries)}, ${result.connections} connections)`,
        num(group.perSecond),
        `one replica: ${num(onePg.perSecond)} Postgres, ${num(baseline.perSecond)} JSON`,
        `${num(group.perSecond / onePg.perSecond, 2)}x Postgres`,
      ],
      ["group deliveries/s processed", num(group.processedPerSecond), `one replica: ${num(onePg.processedPerSecond)} Postgres, ${num(baseline.processedPerSecond)} JSON`, `${num(group.processedPerSecond / onePg.processedPerSecond, 2)}x Postgres`],
      ["group ack p50 / p99 ms", `${num(group.p50, 1)} / ${num(group.p99, 1)}`, `one replica: ${num(onePg.p99, 1)} Postgres, ${num(baseline.p99, 1)} JSON (p99)`, ""],
      ["group 200s / resolved (events / in store)", `${num(acked200(group))} / ${num(resolvedEvents(group))} / ${num(resolvedInStore(group))}`, num(sent(group)), verdict(checks.groupAllResolved)],
    ],
    [
      "Cross-replica delay: A is a Transcriber in the bench process on the group's schema, which submits each job to a fake provider; the job's signed webhook goes to one of the",
      `${group.replicas} replicas (B) in turn, and the delay runs from sending it until A's await resolves (both read on A's clock): B's ack (its status change,`,
      "one statement, stores the transcript with the job processed and NOTIFYs every instance at its commit), then A's reads.",
      `The group shares this machine's ${cpus().length} CPUs with PostgreSQL and the load generator: with few cores, more replicas add no processing power.`,
      ...(acked200(group) === sent(group) ? [] : [statusNote(group)]),
    ],
  );

  const costCells = (row: StoreCost) => [
    row.name,
    num(row.jobs),
    num(row.transcripts),
    num(row.recordBytes),
    num(row.transcriptBytes),
    num(row.perFinishedJob),
    num(row.perFinishedJob / cost.json.perFinishedJob, 1),
    row.rowsPerFinishedJob === undefined ? "—" : num(row.rowsPerFinishedJob, 2),
    num(row.otherBytes),
    num(row.totalBytes),
  ];
  const costTable = renderTable(
    `h(c). Cost of the store per job: the stores of (a) after their last round (${num(result.ballast)} finished jobs without transcript, ` +
      `${num(ROUNDS * DELIVERIES)} pending jobs of which the delivered ones are processed with their transcript)`,
    ["store", "jobs", "transcripts", "bytes/job record", "bytes/transcript", "bytes/finished job", "x JSON", "rows/finished job", "other bytes", "total bytes"],
    [costCells(cost.json), costCells(cost.jsonOnDisk), costCells(cost.postgres), costCells(cost.postgresVacuumed)],
    [
      "A finished job = its record + its transcript. Postgres bytes: pg_total_relation_size (heap, indexes, TOAST) per row of the jobs and transcripts tables;",
      "other: the deliveries table (a full delivery makes no row in it: its status change stores the transcript), dead_letters and schema_version tables; for JSON the journal and lock file.",
    ],
  );
  return [singleTable, crossTable, costTable].join("\n\n");
}
