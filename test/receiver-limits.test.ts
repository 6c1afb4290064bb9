import { afterEach, describe, expect, it } from "vitest";
import { genericProvider } from "hookscribe";
import { resolveTranscriberOptions } from "../src/options.js";
import { FileShares } from "../src/receiver/file-shares.js";
import { WebhookReceiver } from "../src/receiver/webhook-receiver.js";
import { silentLogger } from "../src/shared/logger.js";

/**
 * `GET {path}/healthz` of the receiver alone, over real HTTP: what a load balancer or an
 * orchestrator sees while the store accepts writes, while it does not, and once shutdown began.
 * The store's health is a switch here; the client wires in the real one. Then the checks of the
 * receiver's limits among the options.
 */

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const provider = genericProvider({ baseUrl: "http://127.0.0.1:9", apiKey: "unused", webhookSecret: "unused" });

async function startReceiver(storeHealthy: () => boolean, path = "/webhooks"): Promise<WebhookReceiver> {
  const { receiver: config } = resolveTranscriberOptions({ provider, receiver: { port: 0, path } });
  const started = new WebhookReceiver(config, {
    handler: {
      admit: async () => ({ kind: "admitted", take: async () => ({ status: 200, outcome: "accepted", message: "ok" }) }),
      backlog: () => 0,
      storeHealthy,
    },
    files: new FileShares(),
    onDelivery: () => undefined,
    logger: silentLogger,
  });
  await started.listen();
  return started;
}

describe("receiver: GET {path}/healthz", () => {
  it("answers 200 while the store accepts writes and 503 naming why while it does not, following it both ways", async () => {
    let healthy = true;
    receiver = await startReceiver(() => healthy);
    const url = `${receiver.url}/webhooks/healthz`;

    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("application/json");
    expect(await ok.json()).toEqual({ ok: true });

    healthy = false;
    const failing = await fetch(url);
    expect(failing.status).toBe(503);
    expect(await failing.json()).toEqual({ ok: false, error: expect.stringMatching(/store/) });

    healthy = true;
    expect((await fetch(url)).status).toBe(200);
  });

  it("answers HEAD like GET without a body, and other methods 405 with Allow", async () => {
    let healthy = true;
    receiver = await startReceiver(() => healthy);
    const url = `${receiver.url}/webhooks/healthz`;

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    healthy = false;
    expect((await fetch(url, { method: "HEAD" })).status).toBe(503);

    const posted = await fetch(url, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers 503 once shutdown began, although the store is fine", async () => {
    receiver = await startReceiver(() => true, "/hooks");
    const url = `${receiver.url}/hooks/healthz`;
    expect((await fetch(url)).status).toBe(200);
    receiver.stopAccepting();
    const closing = await fetch(url);
    expect(closing.status).toBe(503);
    expect(((await closing.json()) as { error: string }).error).toMatch(/shutting down/);
  });
});

describe("receiver limits among the options", () => {
  it("defaults to 512 connections, 64 MiB of bodies in memory and a backlog of 10,000", () => {
    expect(resolveTranscriberOptions({ provider }).receiver).toMatchObject({ maxConnections: 512, maxBufferedBytes: 64 * 1024 * 1024, maxBacklog: 10_000 });
  });

  it("rejects a memory budget smaller than one body, and limits below 1", () => {
    expect(() => resolveTranscriberOptions({ provider, receiver: { maxBodyBytes: 2048, maxBufferedBytes: 1024 } })).toThrow(
      "Invalid Transcriber options: receiver.maxBufferedBytes: must be at least maxBodyBytes (1024 < 2048)",
    );
    expect(() => resolveTranscriberOptions({ provider, receiver: { maxConnections: 0, maxBacklog: 0 } })).toThrow(
      "Invalid Transcriber options: receiver.maxConnections: must be > 0, got 0; receiver.maxBacklog: must be > 0, got 0",
    );
  });
});
