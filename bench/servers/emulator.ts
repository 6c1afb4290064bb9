import { fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { TRANSCRIPT_TEXT } from "../helpers.js";
import { serveFromChild } from "./child-protocol.js";

export interface EmulatorConfig {
  apiKey: string;
  webhookSecret: string;
  processingDelayMs: number;
  processingJitterMs: number;
  /** Terminal webhooks without the transcript: the client fetches it. */
  thinPayloads: boolean;
}

/**
 * The provider emulator in a process of its own, as a real provider is: the work of sending
 * webhooks and answering fetches does not share the client's thread, so the client's figures
 * show the client's work.
 */
serveFromChild<EmulatorConfig>(async ({ apiKey, webhookSecret, processingDelayMs, processingJitterMs, thinPayloads }) => {
  const dev = await startDevProvider({ apiKey, webhookSecret, processingDelayMs, processingJitterMs, engine: fixedTextEngine(TRANSCRIPT_TEXT), faults: { thinPayloads } });
  return {
    url: dev.url,
    async finish() {
      const finishedAt: Record<string, number> = {};
      for (const job of dev.jobs()) if (job.finishedAt !== undefined) finishedAt[job.jobId] = job.finishedAt;
      const { requests } = dev.stats;
      await dev.close();
      return { finishedAt, requests };
    },
  };
});
