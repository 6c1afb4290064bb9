import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, readdir, rm } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type Delivery, type Distribution, median, signedCompletedDelivery, tempDir } from "./helpers.js";
import { runLoad } from "./load-generator.js";
import { startServerChild } from "./servers/child-protocol.js";
import type { HookscribeReceiverConfig } from "./servers/hookscribe-receiver.js";
import { buildStore } from "./store-fixture.js";
import { acked200, deliveriesCell, p99RangeCell, sent } from "./load-runs.js";
import { num, renderTable, verdict } from "./table.js";

/**
 * e. Unauthenticated memory amplification: while good deliveries arrive, 200 connections post to
 * a real job's webhook URL with a wrong token, each declaring a ~4.9 MiB body, sending all of it
 * but the last byte and holding the connection; when the receiver closes one, it comes back after
 * a pause. The receiver runs in a child process (as in b.), the attack in another; the receiver's
 * RSS is read from /proc while the good load runs from this process. Over loopback only, for a
 * bounded time.
 */

const ATTACK_CONNECTIONS = 200;
const ATTACK_BODY_BYTES = Math.round(4.9 * 1024 * 1024);
/**
 * How long an attacking connection waits, on average, before it comes back once the receiver
 * closed it; each wait is drawn between half and one and a half times this, so the 200 do not
 * come back in lockstep.
 */
const ATTACK_RECONNECT_MS = 1_000;
/** The attack stops after this long even if the good load has not finished. */
const ATTACK_MAX_MS = 60_000;
/** How long the attack runs before the good load starts, so the load meets it at full strength. */
const ATTACK_LEAD_MS = 1_000;
/** Good deliveries of distinct jobs, over as many connections as in b. */
const DELIVERIES = 5_000;
const CONNECTIONS = 64;
/** Finished jobs already in the store, as a store in use holds. */
const BALLAST = 5_000;
const RSS_SAMPLE_MS = 50;
/** p99 of one run swings by 2-3x on a shared machine: each server runs this often, and the medians count. */
const ROUNDS = 3;

export const attackGoals = {
  /** RSS growth of the receiver's process under the attack, at most, MiB. */
  maxRssGrowthMiB: 100,
  /** Good acks' p99 under the attack as a multiple of the bare server's p99 (no attack), at most. */
  maxP99Ratio: 3,
};

/** What the attacking connections achieved. */
export interface AttackFigures {
  connections: number;
  declaredBytes: number;
  durationMs: number;
  /** Connections opened, the first round included. */
  attempts: number;
  /** The receiver's answers by status; `0`: closed without an answer. */
  answers: Record<number, number>;
}

/** One server, one run. */
export interface AttackRun {
  deliveries: number;
  perSecond: number;
  /** Good acks' latency at the sender, ms. */
  latency: Distribution;
  statuses: Record<number, number>;
  /** The server process's RSS right before the load (and the attack) began, MiB. */
  rssBeforeMiB: number;
  /** Its highest RSS from then until it had processed everything, MiB. */
  rssPeakMiB: number;
  /** 'transcript' events the client emitted (hookscribe only). */
  resolved?: number;
  attack?: AttackFigures;
}

/** One server over its rounds: medians of the latency figures, the worst RSS growth, every run as measured. */
export interface AttackRow {
  name: string;
  runs: AttackRun[];
  perSecond: number;
  p50: number;
  p99: number;
  /** The largest RSS growth of any round, MiB. */
  rssGrowthMiB: number;
}

export interface AttackResult {
  rounds: number;
  bare: AttackRow;
  clean: AttackRow;
  attacked: AttackRow;
}

export async function receiverAttack(): Promise<AttackResult> {
  const dir = await tempDir("attack");
  try {
    const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
    const hookscribe = async (label: string, withAttack: boolean) => {
      const storePath = join(dir, label, "store.json");
      const pending = await buildStore(storePath, { processed: BALLAST, pending: DELIVERIES + 1 });
      // The attack aims at a real job's URL: only the token is wrong.
      const [target, ...jobs] = pending;
      const attackPath = `/webhooks/generic/${target!.ref}/${randomBytes(24).toString("base64url")}`;
      const deliveries = jobs.map((job) => signedCompletedDelivery(webhookSecret, `/webhooks/generic/${job.ref}/${job.token}`, job.jobId));
      const config = { storePath, webhookSecret, fsync: false, expected: DELIVERIES } satisfies HookscribeReceiverConfig;
      return measure("hookscribe-receiver.ts", config, deliveries, withAttack ? attackPath : undefined);
    };
    const bareDeliveries = Array.from({ length: DELIVERIES }, (_, i) => signedCompletedDelivery(webhookSecret, `/webhooks/generic/ref${i}/token${i}`, `job_${i}`));
    const bare: AttackRun[] = [];
    const clean: AttackRun[] = [];
    const attacked: AttackRun[] = [];
    // Interleaved, so a slow spell of the machine does not fall on one server only.
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await measure("bare-http.ts", {}, bareDeliveries, undefined));
      clean.push(await hookscribe(`clean-${round}`, false));
      attacked.push(await hookscribe(`attacked-${round}`, true));
    }
    return {
      rounds: ROUNDS,
      bare: toRow("bare node:http, no attack (floor)", bare),
      clean: toRow("hookscribe, no attack", clean),
      attacked: toRow("hookscribe, under the attack", attacked),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function toRow(name: string, runs: AttackRun[]): AttackRow {
  return {
    name,
    runs,
    perSecond: median(runs.map((run) => run.perSecond)),
    p50: median(runs.map((run) => run.latency.p50)),
    p99: median(runs.map((run) => run.latency.p99)),
    rssGrowthMiB: Math.max(...runs.map((run) => run.rssPeakMiB - run.rssBeforeMiB)),
  };
}

/**
 * Runs one server in a child process and the good load (and the attack, given its path) from this
 * one; the server's RSS is sampled from before the load until the server has processed everything.
 */
async function measure(script: string, config: object, deliveries: readonly Delivery[], attackPath: string | undefined): Promise<AttackRun> {
  const before = new Set(await childPids());
  const server = await startServerChild(new URL(`./servers/${script}`, import.meta.url), config);
  let stopRss = async () => 0;
  let stopAttack = async (): Promise<AttackFigures | undefined> => undefined;
  try {
    if (!["127.0.0.1", "[::1]"].includes(new URL(server.url).hostname)) throw new Error(`the attack runs over loopback only, not to ${server.url}`);
    const pid = await serverPid(before, script);
    const rssBeforeMiB = await rssMiB(pid);
    ({ stop: stopRss } = sampleRss(pid));
    if (attackPath !== undefined) {
      ({ stop: stopAttack } = await startAttack(server.url, attackPath));
      await sleep(ATTACK_LEAD_MS);
    }
    const load = await runLoad(server.url, deliveries, CONNECTIONS);
    const attack = await stopAttack();
    // The server processes what it acked before it reports: that is part of its peak too.
    const report = await server.finish();
    const rssPeakMiB = await stopRss();
    return {
      deliveries: load.deliveries,
      perSecond: load.perSecond,
      latency: load.latency,
      statuses: load.statuses,
      rssBeforeMiB,
      rssPeakMiB,
      ...(report.resolved === undefined ? {} : { resolved: report.resolved }),
      ...(attack ? { attack } : {}),
    };
  } catch (error) {
    await stopAttack();
    await stopRss();
    await server.finish().catch(() => undefined);
    throw error;
  }
}

/** Pids of this process's children (Linux). */
async function childPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const task of await readdir(`/proc/${process.pid}/task`)) {
    const text = await readFile(`/proc/${process.pid}/task/${task}/children`, "utf8").catch(() => "");
    pids.push(...text.split(" ").filter(Boolean).map(Number));
  }
  return pids;
}

/** The child forked for `script`: the one new child whose command line names it. */
async function serverPid(before: Set<number>, script: string): Promise<number> {
  for (const pid of await childPids()) {
    if (before.has(pid)) continue;
    const commandLine = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (commandLine.includes(script)) return pid;
  }
  throw new Error(`cannot find the process of ${script} (the RSS figures need Linux's /proc)`);
}

/** The process's resident set, MiB; `0` once it has exited. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kib === undefined ? 0 : Number(kib) / 1024;
}

/** Samples the process's RSS until stopped; resolves with the highest, MiB. */
function sampleRss(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      peak = Math.max(peak, await rssMiB(pid));
      await sleep(RSS_SAMPLE_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await sampling;
      return peak;
    },
  };
}

/** Where the attacking process finds its target; set only in that process. */
const ATTACKER_ENV = "HOOKSCRIBE_BENCH_ATTACKER";

type FromAttacker = { type: "attacking" } | { type: "stopped"; figures: AttackFigures };

/**
 * Starts the attack in a process of its own, as an attacker's would be: its writes of megabytes
 * then neither block nor share the event loop of the load generator that measures the good acks.
 */
async function startAttack(baseUrl: string, path: string): Promise<{ stop(): Promise<AttackFigures> }> {
  const child = fork(fileURLToPath(import.meta.url), {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    execArgv: ["--import", "tsx"],
    env: { ...process.env, [ATTACKER_ENV]: JSON.stringify({ baseUrl, path }) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <T extends FromAttacker["type"]>(type: T) =>
    new Promise<Extract<FromAttacker, { type: T }>>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the attacking process exited (code ${code}) before "${type}"`));
      child.once("exit", onExit);
      child.on("message", function onMessage(message: FromAttacker) {
        if (message.type !== type) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(message as Extract<FromAttacker, { type: T }>);
      });
    });
  await next("attacking");
  return {
    async stop() {
      const stopped = next("stopped");
      child.send("stop");
      return (await stopped).figures;
    },
  };
}

/**
 * The attacking process: `ATTACK_CONNECTIONS` connections, each posting a body of
 * `ATTACK_BODY_BYTES` to `path` without its last byte and holding on; one the receiver closes
 * comes back after `ATTACK_RECONNECT_MS`. Stops when told, or after `ATTACK_MAX_MS`.
 */
function attack({ baseUrl, path }: { baseUrl: string; path: string }): void {
  const { hostname, port } = new URL(baseUrl);
  const body = Buffer.alloc(ATTACK_BODY_BYTES - 1, "a");
  const head = `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${ATTACK_BODY_BYTES}\r\n\r\n`;
  const started = performance.now();
  const answers: Record<number, number> = {};
  let attempts = 0;
  let running = true;
  const open = new Set<ReturnType<typeof connect>>();

  /** One attacking connection; resolves once the receiver closed it (or the attack stopped). */
  const attackOnce = () =>
    new Promise<void>((resolve) => {
      attempts++;
      let received = "";
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.write(head);
        socket.write(body);
      });
      open.add(socket);
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      socket.on("error", () => undefined);
      socket.on("close", () => {
        open.delete(socket);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
        answers[status] = (answers[status] ?? 0) + 1;
        resolve();
      });
    });
  const slot = async () => {
    while (running) {
      await attackOnce();
      if (running) await sleep(ATTACK_RECONNECT_MS * (0.5 + Math.random()));
    }
  };
  const slots = Array.from({ length: ATTACK_CONNECTIONS }, slot);
  const stop = async () => {
    if (!running) return;
    running = false;
    clearTimeout(timer);
    for (const socket of open) socket.destroy();
    await Promise.all(slots);
    const figures: AttackFigures = { connections: ATTACK_CONNECTIONS, declaredBytes: ATTACK_BODY_BYTES, durationMs: performance.now() - started, attempts, answers };
    process.send!({ type: "stopped", figures } satisfies FromAttacker, undefined, undefined, () => process.exit(0));
  };
  const timer = setTimeout(() => void stop(), ATTACK_MAX_MS);
  process.on("message", () => void stop());
  process.send!({ type: "attacking" } satisfies FromAttacker);
}

const attackerOrders = process.env[ATTACKER_ENV];
if (attackerOrders !== undefined) attack(JSON.parse(attackerOrders) as { baseUrl: string; path: string });

const resolved = (row: AttackRow) => (row.runs.some((run) => run.resolved === undefined) ? undefined : row.runs.reduce((total, run) => total + run.resolved!, 0));

/** Whether the runs under the attack meet the goals. */
export function attackChecks(result: AttackResult) {
  const { bare, clean, attacked } = result;
  const p99Ratio = attacked.p99 / bare.p99;
  return {
    rssGrowthMiB: attacked.rssGrowthMiB,
    p99Ratio,
    rss: attacked.rssGrowthMiB < attackGoals.maxRssGrowthMiB,
    p99: p99Ratio <= attackGoals.maxP99Ratio,
    all200: [clean, attacked].every((row) => acked200(row) === sent(row)),
    allResolved: [clean, attacked].every((row) => resolved(row) === sent(row)),
  };
}

export function attackTable(result: AttackResult): string {
  const { bare, clean, attacked } = result;
  const checks = attackChecks(result);
  const rows = [bare, clean, attacked].map((row) => {
    const done = resolved(row);
    return [
      row.name,
      deliveriesCell(row),
      num(row.perSecond),
      num(row.p50, 1),
      num(row.p99, 1),
      p99RangeCell(row),
      num(row.p99 / bare.p99, 1),
      num(acked200(row)),
      done === undefined ? "—" : num(done),
      num(median(row.runs.map((run) => run.rssBeforeMiB))),
      num(Math.max(...row.runs.map((run) => run.rssPeakMiB))),
      num(row.rssGrowthMiB),
    ];
  });
  const goal = ["goal (under the attack)", "", "", "", "", "", `<= ${attackGoals.maxP99Ratio.toFixed(1)}`, "all", "all", "", "", `< ${attackGoals.maxRssGrowthMiB}`];
  const attacks = attacked.runs.map((run) => run.attack!);
  const answers: Record<number, number> = {};
  for (const attack of attacks) for (const [status, count] of Object.entries(attack.answers)) answers[Number(status)] = (answers[Number(status)] ?? 0) + count;
  return renderTable(
    `f. Attack: ${ATTACK_CONNECTIONS} connections with a wrong token, each declaring ${num(ATTACK_BODY_BYTES / 1024 / 1024, 1)} MiB and ` +
      `holding the last byte (back about ${num(ATTACK_RECONNECT_MS / 1000)} s after the receiver closes it), while ${num(DELIVERIES)} signed deliveries ` +
      `arrive over ${CONNECTIONS} connections; store holding ${num(BALLAST + DELIVERIES + 1)} jobs; server in a child process, attack in another; ` +
      `latency figures are medians of the rounds, RSS growth the worst round`,
    ["server", "deliveries", "deliveries/s", "p50 ms", "p99 ms", "p99 range", "p99 x bare", "200s", "resolved", "RSS before MiB", "RSS peak MiB", "growth MiB"],
    [...rows, goal],
    [
      `Under the attack: RSS growth ${num(checks.rssGrowthMiB)} MiB ${verdict(checks.rss)}; good acks' p99 ${num(checks.p99Ratio, 1)}x the bare server's ${verdict(checks.p99)}; ` +
        `every delivery 200 ${verdict(checks.all200)} and resolved ${verdict(checks.allResolved)}.`,
      `The attack ran ${attacks.map((attack) => `${num(attack.durationMs / 1000, 1)} s`).join(", ")}: ${num(attacks.reduce((total, attack) => total + attack.attempts, 0))} connections, ` +
        `answered ${JSON.stringify(answers)} (0 = closed without an answer).`,
    ],
  );
}
