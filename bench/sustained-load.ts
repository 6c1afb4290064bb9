import http from "node:http";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type Delivery, type Distribution, distribution, signedCompletedDelivery, tempDir } from "./helpers.js";
import { startServerChild } from "./servers/child-protocol.js";
import type { SustainedReceiverConfig, SustainedReport } from "./servers/sustained-receiver.js";
import { buildStore } from "./store-fixture.js";
import { num, renderTable, verdict } from "./table.js";

/**
 * g. Sustained load: signed full `completed` deliveries of distinct jobs for a while at a steady
 * rate (300/s, 1,000/s) and at the most the receiver takes (64 connections, as fast as answered),
 * each level against a fresh server process and store. Measures what an operator watches: ack
 * p99, the backlog of acked jobs not yet announced, memory, the store's size, and how long the
 * announcements trail the load. A full delivery is stored and announced before its ack, without
 * going through the worker, so here the backlog stays 0 and the drain is next to nothing.
 */

export const sustainedGoals = {
  /** Full-payload jobs stored and announced per second under the maximum load, at least. */
  minJobsPerSecond: 2_000,
};

/** Seconds each level runs; the figure is 60 s (`SUSTAINED_SECONDS` shortens a trial run). */
const SECONDS = Number(process.env.SUSTAINED_SECONDS ?? 60);
const RATES = [300, 1_000] as const;
const MAX_CONNECTIONS = 64;
/** Jobs prepared for the maximum level: more than this machine's receiver acks in the time. */
const MAX_RATE_CEILING = 4_000;
/** Open-loop sends per tick: a paced level keeps its rate even when answers slow down, as providers do. */
const TICK_MS = 10;
const REQUEST_TIMEOUT_MS = 30_000;

export interface SustainedRow {
  /** `300/s`, `1,000/s` or `max`. */
  level: string;
  seconds: number;
  sent: number;
  acked: number;
  /** Answers by HTTP status (`503`: refused for now, too many bodies in memory or the store failing; `0`: no answer). */
  statuses: Record<number, number>;
  ackedPerSecond: number;
  latency: Distribution;
  /** Jobs announced per second, from the start of the load until every acked one was announced. */
  processedPerSecond: number;
  report: SustainedReport;
}

export interface SustainedResult {
  seconds: number;
  rows: SustainedRow[];
}

export async function sustainedLoad(): Promise<SustainedResult> {
  const rows: SustainedRow[] = [];
  for (const rate of RATES) rows.push(await level(`${num(rate)}/s`, rate * SECONDS, (url, deliveries) => paced(url, deliveries, rate)));
  rows.push(await level("max", MAX_RATE_CEILING * SECONDS, (url, deliveries) => flat(url, deliveries, MAX_CONNECTIONS, SECONDS * 1000)));
  return { seconds: SECONDS, rows };
}

type Sender = (url: string, deliveries: readonly Delivery[]) => Promise<{ latencies: number[]; statuses: Record<number, number>; sent: number; ms: number }>;

async function level(name: string, jobs: number, send: Sender): Promise<SustainedRow> {
  const dir = await tempDir("sustained");
  try {
    const storePath = join(dir, "store", "store.json");
    const pending = await buildStore(storePath, { processed: 0, pending: jobs });
    const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
    const deliveries = pending.map((job) => signedCompletedDelivery(webhookSecret, `/webhooks/generic/${job.ref}/${job.token}`, job.jobId));
    const server = await startServerChild(new URL("./servers/sustained-receiver.ts", import.meta.url), { storePath, webhookSecret } satisfies SustainedReceiverConfig);
    const load = await send(server.url, deliveries);
    const report = (await server.finish()) as SustainedReport;
    const acked = load.statuses[200] ?? 0;
    return {
      level: name,
      seconds: load.ms / 1000,
      sent: load.sent,
      acked,
      statuses: load.statuses,
      ackedPerSecond: (acked / load.ms) * 1000,
      latency: distribution(load.latencies),
      processedPerSecond: (report.resolved / (load.ms + report.drainMs)) * 1000,
      report,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `rate` deliveries a second, sent on schedule whatever the answers, until all are sent. */
async function paced(url: string, deliveries: readonly Delivery[], rate: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1_024 });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const answers: Promise<void>[] = [];
  const started = performance.now();
  let next = 0;
  while (next < deliveries.length) {
    const due = Math.min(deliveries.length, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    for (; next < due; next++) answers.push(timedPost(agent, url, deliveries[next]!, latencies, statuses));
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(answers);
  agent.destroy();
  return { latencies, statuses, sent: deliveries.length, ms: performance.now() - started };
}

/** As fast as the receiver answers, `connections` requests in flight, until `ms` passed or the deliveries ran out. */
async function flat(url: string, deliveries: readonly Delivery[], connections: number, ms: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const started = performance.now();
  let next = 0;
  const sender = async () => {
    while (next < deliveries.length && performance.now() - started < ms) await timedPost(agent, url, deliveries[next++]!, latencies, statuses);
  };
  await Promise.all(Array.from({ length: connections }, sender));
  agent.destroy();
  return { latencies, statuses, sent: next, ms: performance.now() - started };
}

function timedPost(agent: http.Agent, baseUrl: string, delivery: Delivery, latencies: number[], statuses: Record<number, number>): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (status: number) => {
      latencies.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
      resolve();
    };
    const request = http.request(new URL(delivery.path, baseUrl), { method: "POST", agent, headers: delivery.headers, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      response.resume();
      response.on("end", () => done(response.statusCode ?? 0));
      response.on("error", () => done(0));
    });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", () => done(0));
    request.end(delivery.body);
  });
}

export function sustainedTable({ seconds, rows }: SustainedResult): string {
  const max = rows.find((row) => row.level === "max");
  return renderTable(
    `g. Sustained load: ${num(seconds)} s per level of signed full deliveries, each level on a fresh server process and store`,
    ["level", "acked/s", "503s", "ack p99 ms", "backlog peak", "RSS peak MiB", "store MiB", "drain s", "processed/s", `goal >= ${num(sustainedGoals.minJobsPerSecond)}/s`],
    rows.map((row) => [
      row.level,
      num(row.ackedPerSecond),
      num(row.statuses[503] ?? 0),
      num(row.latency.p99, 1),
      num(row.report.backlogPeak),
      num(row.report.rssPeakBytes / 2 ** 20),
      num(row.report.storeBytes / 2 ** 20, 1),
      num(row.report.drainMs / 1000, 2),
      num(row.processedPerSecond),
      row === max ? verdict(row.processedPerSecond >= sustainedGoals.minJobsPerSecond) : "",
    ]),
    [
      "Paced levels send on schedule whatever the answers (open loop); max keeps 64 requests in flight, as fast as they are answered.",
      "Backlog: acked and not yet announced (sampled every 50 ms); a full delivery is stored and announced before its ack, so it stays 0. Drain: from the end of the load until every acked job was announced.",
      "Processed/s: jobs stored and announced (each at its ack) over the load plus the drain; a paced level cannot exceed its rate.",
    ],
  );
}
