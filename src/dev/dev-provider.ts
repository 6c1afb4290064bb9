import { setMaxListeners } from "node:events";
import { stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigurationError } from "hookscribe";
import { DevApi } from "./dev-api.js";
import { type DevDeadLetter, type DevJob, deadLettersOf, snapshotJob } from "./dev-job.js";
import { type DevProviderOptions, resolveDevProviderOptions } from "./dev-provider-options.js";
import { createStats, type DevProviderStats } from "./dev-provider-stats.js";
import { dialectNamed } from "./dialects.js";
import { JobRunner } from "./job-runner.js";
import { JobTable } from "./job-table.js";
import { publicFileForUrl } from "./public-files.js";
import { WebhookSender } from "./webhook-sender.js";

export type { DevDeadLetter, DevDelivery, DevJob, DevJobStatus, WebhookStatus } from "./dev-job.js";
export type { DevProviderFaults, DevProviderOptions } from "./dev-provider-options.js";
export type { DevProviderStats } from "./dev-provider-stats.js";
export { fixedTextEngine } from "./fixed-text-engine.js";
export { sidecarEngine } from "./sidecar-engine.js";
export type { EngineContext, EngineResult, TranscriptEngine } from "./transcript-engine.js";

/** A running emulator of the reference protocol. */
export interface DevProvider {
  /** Base URL of the API, e.g. `http://127.0.0.1:41234`: the `baseUrl` of `genericProvider`. */
  readonly url: string;
  /** The Bearer token the API requires. */
  readonly apiKey: string;
  /** The secret the webhooks are signed with. */
  readonly webhookSecret: string;
  /** Live counters: the same object keeps changing while the emulator works. */
  readonly stats: Readonly<DevProviderStats>;
  /** A snapshot of every job, oldest first. */
  jobs(): DevJob[];
  /** A snapshot of one job, `undefined` if the emulator does not know it. */
  job(jobId: string): DevJob | undefined;
  /** Webhook messages given up on after the whole retry schedule. */
  deadLetters(): DevDeadLetter[];
  /**
   * Sends a finished job's terminal webhook again, with the retry policy; resolves when that round
   * ends (delivered, refused, dead-lettered again or closed). Rejects for an unknown or unfinished job.
   */
  redeliver(jobId: string): Promise<void>;
  /** Stops timers, retries and in-flight webhooks, then the server. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a local provider that speaks the reference protocol over real HTTP: submit,
 * result, redeliver, and signed webhooks with the provider-side retry policy. For tests,
 * benchmarks and demos; `faults` makes it misbehave the ways real providers do.
 */
export async function startDevProvider(options: DevProviderOptions = {}): Promise<DevProvider> {
  const config = resolveDevProviderOptions(options);
  if (config.publicDir) await requireDirectory(config.publicDir);
  if (config.faults.outOfOrder && config.dialect !== "generic") {
    throw new ConfigurationError(
      `startDevProvider: faults.outOfOrder is for the generic dialect; ${config.dialect} sends one terminal message per job, so there is no stale one to send late (post one to the webhook URL yourself)`,
    );
  }

  const dialect = dialectNamed(config.dialect, config.webhookSecret);
  const closing = new AbortController();
  // Every retry wait and in-flight webhook listens on this one signal: hundreds at once is normal.
  setMaxListeners(0, closing.signal);
  const stats = createStats();
  const jobs = new JobTable<unknown>();
  const server = http.createServer();
  await listen(server, config.host, config.port);
  const url = baseUrlOf(server, config.host);

  const sender = new WebhookSender({
    verdict: (statusCode) => dialect.verdict(statusCode),
    retryDelaysMs: config.retryDelaysMs ?? dialect.retryDelaysMs,
    deliveryTimeoutMs: config.deliveryTimeoutMs,
    signal: closing.signal,
    stats,
    logger: config.logger,
  });
  const { publicDir } = config;
  const runner = new JobRunner({
    dialect,
    engine: config.engine,
    engineContext: {
      signal: closing.signal,
      localPath: publicDir ? (fileUrl) => publicFileForUrl(publicDir, url, fileUrl) : undefined,
    },
    processingDelayMs: config.processingDelayMs,
    processingJitterMs: config.processingJitterMs,
    sendProcessingWebhook: config.sendProcessingWebhook,
    faults: config.faults,
    sender,
    stats,
    logger: config.logger,
  });
  const api = new DevApi({
    dialect,
    apiKey: config.apiKey,
    publicDir,
    faults: config.faults,
    jobs,
    runner,
    stats,
    signal: closing.signal,
    logger: config.logger,
  });
  server.on("request", api.listener);

  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closing.abort();
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await Promise.all([serverClosed, runner.settled()]);
    sender.close();
  };

  return {
    url,
    apiKey: config.apiKey,
    webhookSecret: config.webhookSecret,
    stats,
    jobs: () => jobs.all().map(snapshotJob),
    job: (jobId) => {
      const job = jobs.get(jobId);
      return job && snapshotJob(job);
    },
    deadLetters: () => jobs.all().flatMap(deadLettersOf),
    redeliver: async (jobId) => runner.redeliver(jobs.require(jobId)),
    close: () => (closed ??= close()),
  };
}

async function requireDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ConfigurationError(`startDevProvider: publicDir ${dir} is not a directory`);
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void =>
      reject(new ConfigurationError(`startDevProvider: cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      resolve();
    });
  });
}

/** A wildcard address is where the server listens, not where a client can reach it: use loopback. */
function baseUrlOf(server: http.Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}
