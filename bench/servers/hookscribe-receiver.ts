import { setTimeout as sleep } from "node:timers/promises";
import { Transcriber, genericProvider } from "hookscribe";
import { postgresStore } from "hookscribe/postgres";
import { serveFromChild } from "./child-protocol.js";

export interface HookscribeReceiverConfig {
  /** The JSON store file (with `fsync`); or `postgres` instead. */
  storePath?: string;
  fsync?: boolean;
  /** A Postgres store (`postgresStore`) on this schema, e.g. one replica of several sharing it. */
  postgres?: { connectionString: string; schema: string };
  webhookSecret: string;
  /** Jobs the load will complete: finish() waits (bounded) until that many were announced. */
  expected: number;
}

/**
 * Full deliveries are stored and announced before their ack, so once the load ends only a delivery
 * that was never acked is still missing; this bounds the wait for it.
 */
const DRAIN_TIMEOUT_MS = 60_000;

/** The SDK as an application runs it: one Transcriber, its embedded receiver, its store. */
serveFromChild<HookscribeReceiverConfig>(async ({ storePath, fsync, postgres, webhookSecret, expected }) => {
  const client = new Transcriber({
    // Full deliveries carry the transcript, so the provider's API is never called: any loopback URL does.
    provider: genericProvider({ baseUrl: "http://127.0.0.1:9", apiKey: "unused", webhookSecret }),
    receiver: { port: 0 },
    ...(postgres ? { store: postgresStore(postgres) } : { storePath, fsync }),
  });
  let resolved = 0;
  let lastResolvedAt: number | undefined;
  client.on("transcript", () => {
    resolved++;
    lastResolvedAt = Date.now();
  });
  await client.start();
  return {
    url: client.receiverUrl!,
    async finish() {
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while (resolved < expected && Date.now() < deadline) await sleep(50);
      // close() drains the worker (and folds the JSON store's journal into the document, which the parent then reads).
      await client.close();
      return { resolved, ...(lastResolvedAt === undefined ? {} : { lastResolvedAt }) };
    },
  };
});
