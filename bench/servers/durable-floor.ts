import { writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { verifyHmacHex } from "hookscribe";
import { serveFromChild } from "./child-protocol.js";
import { plainHttpServer } from "./plain-http-server.js";

export interface DurableFloorConfig {
  /** The file the deliveries are appended to. */
  logPath: string;
  webhookSecret: string;
}

/**
 * The floor of any receiver that acks only what its file holds (written, not fsynced: what
 * hookscribe's default promises, surviving a crash of the process): node:http, the HMAC checked,
 * the body parsed, one line appended per delivery, the lines that come in during one turn of the
 * event loop written together (synchronously, as hookscribe's journal writes), 200 once the
 * delivery's write is done. Nothing else: no job lookup, no schema, no status rule, no
 * processing. What it costs over the bare server is the least such an ack can cost on this machine.
 */
serveFromChild<DurableFloorConfig>(async ({ logPath, webhookSecret }) => {
  const file = await open(logPath, "a");
  let queued: { line: string; written: () => void }[] = [];
  const writeQueued = () => {
    const batch = queued;
    queued = [];
    writeSync(file.fd, batch.map((entry) => entry.line).join(""));
    for (const entry of batch) entry.written();
  };
  const server = await plainHttpServer(async (request, rawBody) => {
    if (!verifyHmacHex(webhookSecret, rawBody, request.headers["x-webhook-signature"] as string | undefined).ok) return 401;
    const body = JSON.parse(rawBody.toString("utf8")) as unknown;
    await new Promise<void>((written) => {
      queued.push({ line: `${JSON.stringify({ path: request.url, body, receivedAt: Date.now() })}\n`, written });
      if (queued.length === 1) setImmediate(writeQueued);
    });
    return 200;
  });
  return {
    url: server.url,
    async finish() {
      await server.close();
      await file.close();
      return {};
    },
  };
});
