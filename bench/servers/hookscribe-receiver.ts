import { setTimeout as sleep } from "node:timers/promises";
import { Transcriber, genericProvider } from "hookscribe";
import { serveFromChild } from "./child-protocol.js";

export interface HookscribeReceiverConfig {
  storePath: string;
  webhookSecret: string;
  fsync: boolean;
  /** Jobs the load will complete: finish() waits (bounded) until that many were announced. */
  expected: number;
}

/** Deliveries are processed after their ack; this bounds the wait for the worker to catch up. */
const DRAIN_TIMEOUT_MS = 60_000;

/** The SDK as an application runs it: one Transcriber, its embedded receiver, the store on disk. */
serveFromChild<HookscribeReceiverConfig>(async ({ storePath, webhookSecret, fsync, expected }) => {
  const client = new Transcriber({
    // Full deliveries carry the transcript, so the provider's API is never called: any loopback URL does.
    provider: genericProvider({ baseUrl: "http://127.0.0.1:9", apiKey: "unused", webhookSecret }),
    receiver: { port: 0 },
    storePath,
    fsync,
  });
  let resolved = 0;
  client.on("transcript", () => resolved++);
  await client.start();
  return {
    url: client.receiverUrl!,
    async finish() {
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while (resolved < expected && Date.now() < deadline) await sleep(50);
      // close() drains the worker and folds the journal into the document, which the parent then reads.
      await client.close();
      return { resolved };
    },
  };
});
