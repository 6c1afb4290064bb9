import http from "node:http";
import { verifyHmacHex } from "hookscribe";
import { Low } from "lowdb";
import { JSONFile } from "lowdb/node";
import type { StoreDocument } from "../../src/store/records.js";
import { serveFromChild } from "./child-protocol.js";
import { plainHttpServer } from "./plain-http-server.js";

export interface LowdbPerDeliveryConfig {
  /** A copy of the store document the hookscribe runs start from. */
  storePath: string;
  webhookSecret: string;
}

/**
 * The obvious implementation: node:http, an HMAC check, and one lowdb `db.update()` per delivery.
 * lowdb serialises the whole document on every update, so each delivery costs O(jobs).
 */
serveFromChild<LowdbPerDeliveryConfig>(async ({ storePath, webhookSecret }) => {
  const db = new Low<StoreDocument>(new JSONFile(storePath), { version: 1, journalSeq: 0, jobs: {}, inbox: {}, deadLetters: {} });
  await db.read();
  const handle = async (request: http.IncomingMessage, rawBody: Buffer): Promise<number> => {
    const ref = request.url!.split("/")[3]!; // /webhooks/generic/{ref}/{token}
    const signature = request.headers["x-webhook-signature"] as string | undefined;
    if (!verifyHmacHex(webhookSecret, rawBody, signature).ok) return 401;
    const body = JSON.parse(rawBody.toString("utf8")) as { status: "completed"; text: string };
    if (!db.data.jobs[ref]) return 404;
    await db.update(({ jobs }) => {
      const now = Date.now();
      // The transcript goes into the job, as the simplest code would keep it.
      Object.assign(jobs[ref]!, { status: body.status, processed: true, finishedAt: now, updatedAt: now, text: body.text });
    });
    return 200;
  };
  const server = await plainHttpServer(handle);
  return {
    url: server.url,
    async finish() {
      await server.close();
      // Every 200 waited for its update's write, so the document on disk is final; the parent counts from it.
      return {};
    },
  };
});
