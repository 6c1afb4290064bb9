import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { genericProvider } from "hookscribe";
import { type Distribution, type Resolutions, distribution, hookscribeJobs, resolutionDelays } from "./helpers.js";
import { type ServerReport, startServerChild } from "./servers/child-protocol.js";
import type { EmulatorConfig } from "./servers/emulator.js";
import { num, renderTable, verdict } from "./table.js";

/** a. 200 jobs at once, about 2 s each at the emulator: hookscribe's webhook path against polling loops. */

const JOBS = 200;
const JOB_MS = 2_000;
/**
 * Jobs take 2 s ± 0.5 s. With one fixed 2 s duration a 2 s poller's second ask lands right after
 * every job ends, a coincidence no real workload offers.
 */
const JOB_JITTER_MS = 500;
const ROUNDS = 3;
/** Every job should be done a few seconds after it finishes; a run that takes longer has failed. */
const JOB_DEADLINE_MS = 30_000;

export const latencyGoals = {
  requestsPerJob: 1,
  requestsPerJobThin: 2,
  /** From "provider finished" to "caller's await resolved", ms. */
  maxP99DelayMs: 20,
};

export interface LatencyRow {
  name: string;
  /** Requests the provider received (submits, status fetches, polls) per job. */
  requestsPerJob: number;
  /** Goal for this row; `undefined` for the polling baselines. */
  goalRequestsPerJob?: number;
  /** Requests per job as the goal says and p99 under its limit (hookscribe rows only). */
  goalMet?: boolean;
  /** resolvedAt - the emulator's finishedAt, ms. */
  delay: Distribution;
}

export interface LatencyResult {
  jobs: number;
  jobMs: number;
  rounds: number;
  rows: LatencyRow[];
}

export async function webhookVsPolling(): Promise<LatencyResult> {
  const withGoal = (row: LatencyRow, goalRequestsPerJob: number): LatencyRow => ({
    ...row,
    goalRequestsPerJob,
    goalMet: row.requestsPerJob === goalRequestsPerJob && row.delay.p99 < latencyGoals.maxP99DelayMs,
  });
  const rows = [
    withGoal(await measure("hookscribe, full payloads", false, referenceJobs), latencyGoals.requestsPerJob),
    withGoal(await measure("hookscribe, thin payloads", true, referenceJobs), latencyGoals.requestsPerJobThin),
    await measure("polling every 2 s", false, (emulator) => pollingJobs(emulator, 2_000)),
    await measure("polling every 3 s (AssemblyAI SDK default)", false, (emulator) => pollingJobs(emulator, 3_000)),
  ];
  return { jobs: JOBS, jobMs: JOB_MS, rounds: ROUNDS, rows };
}

/** The emulator as its clients see it: where it listens and the credentials it was started with. */
interface Emulator {
  url: string;
  apiKey: string;
  webhookSecret: string;
}

/**
 * Runs `JOBS` jobs through `run` against a fresh emulator in a process of its own, `ROUNDS`
 * times, and pools every job's figures: the p99 of one burst of 200 swings from run to run, that
 * of 600 much less.
 */
async function measure(name: string, thinPayloads: boolean, run: (emulator: Emulator) => Promise<Resolutions>): Promise<LatencyRow> {
  const delays: number[] = [];
  let requests = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const config = {
      apiKey: `dev_${randomBytes(16).toString("hex")}`,
      webhookSecret: `whsec_${randomBytes(24).toString("base64")}`,
      processingDelayMs: JOB_MS,
      processingJitterMs: JOB_JITTER_MS,
      thinPayloads,
    } satisfies EmulatorConfig;
    const server = await startServerChild(new URL("./servers/emulator.ts", import.meta.url), config);
    let resolutions: Resolutions;
    let report: ServerReport;
    try {
      resolutions = await run({ url: server.url, apiKey: config.apiKey, webhookSecret: config.webhookSecret });
    } finally {
      report = await server.finish();
    }
    delays.push(...resolutionDelays((jobId) => report.finishedAt?.[jobId], resolutions, name));
    requests += report.requests ?? 0;
  }
  return { name, requestsPerJob: requests / (JOBS * ROUNDS), delay: distribution(delays) };
}

/** hookscribe's jobs through `genericProvider`, the reference protocol the emulator speaks by default. */
function referenceJobs(emulator: Emulator): Promise<Resolutions> {
  const provider = genericProvider({ baseUrl: emulator.url, apiKey: emulator.apiKey, webhookSecret: emulator.webhookSecret });
  return hookscribeJobs(provider, { jobs: JOBS, timeoutMs: JOB_DEADLINE_MS, audioUrl });
}

/** `JOBS` plain polling loops at once, each submitting its job and asking for it every `intervalMs`. */
async function pollingJobs(emulator: Emulator, intervalMs: number): Promise<Resolutions> {
  // The protocol requires a webhook URL; this one takes the webhooks and ignores them.
  const sink = http.createServer((request, response) => request.resume().on("end", () => response.end()));
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  const webhookUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/ignored`;
  try {
    return await Promise.all(Array.from({ length: JOBS }, (_, i) => pollOneJob(emulator, audioUrl(i), webhookUrl, intervalMs)));
  } finally {
    sink.closeAllConnections();
    await new Promise((resolve) => sink.close(resolve));
  }
}

/** The shape of AssemblyAI's `waitUntilReady`: ask at once, then sleep the interval between asks. */
async function pollOneJob(emulator: Emulator, audio: string, webhookUrl: string, intervalMs: number): Promise<Resolutions[number]> {
  const headers = { authorization: `Bearer ${emulator.apiKey}`, "content-type": "application/json" };
  const submit = await fetch(`${emulator.url}/v1/transcripts`, { method: "POST", headers, body: JSON.stringify({ audio_url: audio, webhook_url: webhookUrl }) });
  if (submit.status !== 201) throw new Error(`polling: submit answered ${submit.status}: ${await submit.text()}`);
  const { job_id: jobId } = (await submit.json()) as { job_id: string };
  const deadline = Date.now() + JOB_DEADLINE_MS;
  while (Date.now() < deadline) {
    const answer = await fetch(`${emulator.url}/v1/transcripts/${jobId}`, { headers });
    const { status } = (await answer.json()) as { status: string };
    if (status === "completed") return { jobId, resolvedAt: Date.now() };
    if (status === "error") throw new Error(`polling: job ${jobId} failed`);
    await sleep(intervalMs);
  }
  throw new Error(`polling: job ${jobId} not completed within ${JOB_DEADLINE_MS} ms`);
}

/** Never downloaded: the fixed-text engine answers without fetching the audio. */
function audioUrl(i: number): string {
  return `http://127.0.0.1/bench/audio-${i}.wav`;
}

export function latencyTable({ rows }: LatencyResult): string {
  return renderTable(
    `a. Webhook vs polling: ${JOBS} concurrent jobs of ${JOB_MS / 1000} s ± ${JOB_JITTER_MS / 1000} s at the emulator, ${ROUNDS} rounds pooled; ` +
      "delay = caller's await resolved - provider finished",
    ["variant", "requests/job", "goal", "delay p50 ms", "p99 ms", "goal p99", "mean ms", "verdict"],
    rows.map((row) => [
      row.name,
      num(row.requestsPerJob, 2),
      row.goalRequestsPerJob === undefined ? "(baseline)" : num(row.goalRequestsPerJob),
      num(row.delay.p50, 0),
      num(row.delay.p99, 0),
      row.goalRequestsPerJob === undefined ? "" : `< ${latencyGoals.maxP99DelayMs}`,
      num(row.delay.mean, 0),
      row.goalMet === undefined ? "" : verdict(row.goalMet),
    ]),
    [
      "Polling asks at once, then every interval (AssemblyAI's waitUntilReady); a job ends at a random point of an interval, so",
      "polling adds interval/2 of delay on average and one request per interval.",
    ],
  );
}
