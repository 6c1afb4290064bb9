import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { FetchResultError, SubmitError, assemblyAIProvider, genericProvider, isHookscribeError } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { rejection } from "./helpers.js";

/**
 * Submit retries never start a second billed job: a provider without an idempotency key is retried
 * only when the answer shows it did not take the job; one with a key (the reference protocol) is
 * retried on any transient failure, since the key makes a retry harmless.
 */

const servers: { close(): void; closeAllConnections(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A loopback API answering each request with the next status of `statuses` (the last one repeats); counts requests. */
async function api(statuses: number[]): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    const status = statuses[Math.min(requests++, statuses.length - 1)]!;
    const body = status < 300 ? { id: "tr_1", status: "queued", job_id: "job_1", audio_url: "https://a/b.wav" } : { error: `answer ${status}` };
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

const RETRY = { limit: 3, minDelayMs: 1, maxDelayMs: 5 };
const REQUEST = { audioUrl: "https://audio.example/a.wav", webhookUrl: "https://hooks.example/webhooks/x/y/z", webhookSecret: "s" };

describe("submit retries", () => {
  it.each([500, 502, 504, 408])("a provider without an idempotency key is not retried after a %i: the job may have been taken", async (status) => {
    const provider = await api([status, 200]);
    const error = await rejection(assemblyAIProvider({ apiKey: "k", baseUrl: provider.url, retry: RETRY }).submit(REQUEST, { idempotencyKey: "i" }));
    expect(isHookscribeError(error)).toBe(true);
    expect(error).toBeInstanceOf(SubmitError);
    expect((error as SubmitError).status).toBe(status);
    expect(provider.requests()).toBe(1);
  });

  it.each([429, 503])("a provider without an idempotency key is retried after a %i: the job was not taken", async (status) => {
    const provider = await api([status, 200]);
    const { jobId } = await assemblyAIProvider({ apiKey: "k", baseUrl: provider.url, retry: RETRY }).submit(REQUEST, { idempotencyKey: "i" });
    expect(jobId).toBe("tr_1");
    expect(provider.requests()).toBe(2);
  });

  it("a provider without an idempotency key is retried when nothing listens (the connection was refused)", async () => {
    const provider = await api([200]);
    const port = Number(new URL(provider.url).port);
    for (const server of servers.splice(0)) server.close();
    const error = await rejection(assemblyAIProvider({ apiKey: "k", baseUrl: `http://127.0.0.1:${port}`, retry: { limit: 2, minDelayMs: 1, maxDelayMs: 1 } }).submit(REQUEST, { idempotencyKey: "i" }));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error.message).toMatch(/Could not reach assemblyai/);
  });

  it("the reference protocol, whose submits carry an Idempotency-Key, is retried after a 500", async () => {
    const provider = await api([500, 201]);
    const { jobId } = await genericProvider({ apiKey: "k", baseUrl: provider.url, webhookSecret: "s", retry: RETRY }).submit(REQUEST, { idempotencyKey: "i" });
    expect(jobId).toBe("job_1");
    expect(provider.requests()).toBe(2);
  });
});

describe("answers that are not JSON", () => {
  it("a submit answered 201 with a body that is not JSON is named by its size, never quoted", async () => {
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(201, { "content-type": "text/plain" });
      response.end("job accepted: marker-words-of-the-body");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await rejection(genericProvider({ apiKey: "k", baseUrl, webhookSecret: "s", retry: RETRY }).submit(REQUEST, { idempotencyKey: "i" }));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error.message).toMatch(/not JSON, 38 bytes/);
    expect(error.message).not.toContain("marker-words");
  });
});

describe("answers that never end", () => {
  it("a result whose body trickles in is given up within requestTimeoutMs of its headers, as a FetchResultError", async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"job_id":"j1",');
      // One space every 50 ms: never idle for long, never done.
      timers.push(setInterval(() => response.write(" "), 50));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provider = genericProvider({ apiKey: "k", baseUrl, webhookSecret: "s", requestTimeoutMs: 300, retry: RETRY });
    const error = await rejection(provider.fetchResult!("j1", { retry: false }));
    for (const timer of timers) clearInterval(timer);
    expect(error).toBeInstanceOf(FetchResultError);
    expect(error.message).toMatch(/did not arrive whole within 300 ms/);
  });
});
