import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Transcriber, genericProvider } from "hookscribe";
import { serveFromChild } from "./child-protocol.js";

export interface SustainedReceiverConfig {
  storePath: string;
  webhookSecret: string;
}

/** What the server saw of one sustained run; travels to the parent as its report. */
export interface SustainedReport {
  resolved: number;
  /** Deliveries acked and not yet announced, at most, sampled every 50 ms. */
  backlogPeak: number;
  rssPeakBytes: number;
  /** From the end of the load until every acked delivery was announced (or the bound ran out). */
  drainMs: number;
  /** Store document, journal and transcript files at the end, before close() folds the journal. */
  storeBytes: number;
}

/** The wait after the load for acked jobs not announced yet is bounded, so a run that lost some ends. */
const DRAIN_TIMEOUT_MS = 120_000;

serveFromChild<SustainedReceiverConfig>(async ({ storePath, webhookSecret }) => {
  const client = new Transcriber({
    // Full deliveries carry the transcript: the provider's API is never called.
    provider: genericProvider({ baseUrl: "http://127.0.0.1:9", apiKey: "unused", webhookSecret }),
    receiver: { port: 0 },
    storePath,
  });
  let acked = 0;
  let resolved = 0;
  let backlogPeak = 0;
  let rssPeakBytes = 0;
  client.on("delivery", (info) => {
    if (info.outcome === "accepted") acked++;
  });
  client.on("transcript", () => resolved++);
  const sampler = setInterval(() => {
    backlogPeak = Math.max(backlogPeak, acked - resolved);
    rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage.rss());
  }, 50);
  await client.start();
  return {
    url: client.receiverUrl!,
    async finish() {
      const loadEnded = performance.now();
      while (resolved < acked && performance.now() - loadEnded < DRAIN_TIMEOUT_MS) await sleep(20);
      const drainMs = performance.now() - loadEnded;
      clearInterval(sampler);
      const storeBytes = await bytesUnder(dirname(storePath));
      await client.close();
      const report: SustainedReport = { resolved, backlogPeak, rssPeakBytes, drainMs, storeBytes };
      return report;
    },
  };
});

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
