import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type DevProvider,
  type DevProviderOptions,
  fixedTextEngine,
  sidecarEngine,
  startDevProvider,
} from "../src/dev/dev-provider.js";
import { type TranscriptBody, transcriptBodySchema } from "../src/providers/generic-wire.js";
import { verifyHmacHex } from "../src/verification/hmac-hex.js";
import { verifyStandardWebhook } from "../src/verification/standard-webhooks.js";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** An emulator with test-sized timings, closed after the test. */
async function devProvider(options: DevProviderOptions = {}): Promise<DevProvider> {
  const provider = await startDevProvider({
    engine: fixedTextEngine("hello brave new world"),
    processingDelayMs: 20,
    retryDelaysMs: [10, 20, 40],
    ...options,
  });
  cleanups.push(() => provider.close());
  return provider;
}

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: TranscriptBody;
}

/** What the receiver answers to the n-th delivery (1-based): a status code, or never. */
type Answer = (n: number) => number | "hang";

/** A throwaway webhook receiver that records every delivery. */
async function startReceiver(answer: Answer = () => 200) {
  const deliveries: Received[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    deliveries.push({ headers: req.headers, raw, body: transcriptBodySchema.parse(JSON.parse(raw.toString("utf8"))) });
    const status = answer(deliveries.length);
    if (status !== "hang") res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/generic?token=t0k3n`, deliveries };
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function api(
  provider: DevProvider,
  method: string,
  pathname: string,
  options: { body?: unknown; headers?: Record<string, string>; auth?: boolean } = {},
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.auth !== false) headers.authorization = `Bearer ${provider.apiKey}`;
  const response = await fetch(`${provider.url}${pathname}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

function submit(provider: DevProvider, webhookUrl: string, extra: { audioUrl?: string; headers?: Record<string, string> } = {}) {
  return api(provider, "POST", "/v1/transcripts", {
    body: { audio_url: extra.audioUrl ?? "https://example.com/call.wav", webhook_url: webhookUrl },
    headers: extra.headers,
  });
}

function statuses(deliveries: Received[]): string[] {
  return deliveries.map((delivery) => delivery.body.status);
}

/** A silent 16-bit mono PCM WAV of the given length. */
function pcmWav(seconds: number, sampleRate = 8000): Buffer {
  const data = Buffer.alloc(seconds * sampleRate * 2);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write("data", 36, "latin1");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

describe("submit", () => {
  it("answers 201 queued, and a repeated Idempotency-Key returns the same job", async () => {
    const provider = await devProvider({ processingDelayMs: 10_000 });
    const receiver = await startReceiver();
    const headers = { "idempotency-key": "3f1c7c1e-5b7a-4d3e-9a57-0d3b2c1f9e10" };

    const first = await submit(provider, receiver.url, { headers });
    const again = await submit(provider, receiver.url, { headers });

    expect(first.status).toBe(201);
    expect(first.json).toEqual({ job_id: expect.stringMatching(/^job_[0-9a-f]+$/), status: "queued" });
    expect(again).toEqual(first);
    expect(provider.jobs()).toHaveLength(1);
    expect(provider.stats.submits).toBe(2);
  });

  it("refuses a missing or wrong API key with 401", async () => {
    const provider = await devProvider();
    const body = { audio_url: "https://example.com/a.wav", webhook_url: "https://example.com/hook" };

    const missing = await api(provider, "POST", "/v1/transcripts", { body, auth: false });
    const wrong = await api(provider, "POST", "/v1/transcripts", { body, auth: false, headers: { authorization: "Bearer nope" } });

    expect(missing.status).toBe(401);
    expect(missing.json.error).toMatch(/API key/);
    expect(wrong.status).toBe(401);
    expect(provider.jobs()).toHaveLength(0);
  });

  it("answers 400 with a readable message for a bad body", async () => {
    const provider = await devProvider();

    const badUrl = await api(provider, "POST", "/v1/transcripts", { body: { audio_url: "not a url" } });
    const notJson = await api(provider, "POST", "/v1/transcripts", { body: "{nope" });
    const ftpHook = await api(provider, "POST", "/v1/transcripts", {
      body: { audio_url: "https://example.com/a.wav", webhook_url: "ftp://example.com/h" },
    });

    expect(badUrl.status).toBe(400);
    expect(badUrl.json.error).toMatch(/audio_url/);
    expect(badUrl.json.error).toMatch(/webhook_url/);
    expect(notJson).toEqual({ status: 400, json: { error: "Request body is not valid JSON" } });
    expect(ftpHook.status).toBe(400);
  });

  it("answers 503 to the first failFirstSubmits submits, then accepts", async () => {
    const provider = await devProvider({ faults: { failFirstSubmits: 2 } });
    const receiver = await startReceiver();

    const answers = [await submit(provider, receiver.url), await submit(provider, receiver.url), await submit(provider, receiver.url)];

    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 201]);
    expect(answers[0]?.json.error).toMatch(/failFirstSubmits/);
    expect(provider.jobs()).toHaveLength(1);
  });

  it("answers 404 to unknown paths and 405 to a wrong method", async () => {
    const provider = await devProvider();

    expect((await api(provider, "GET", "/v2/nothing")).status).toBe(404);
    const wrongMethod = await api(provider, "DELETE", "/v1/transcripts");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json.error).toMatch(/POST/);
    expect(provider.stats.requests).toBe(2);
  });
});

describe("webhooks", () => {
  it("sends processing then completed, full and signed both ways", async () => {
    const provider = await devProvider();
    const receiver = await startReceiver();

    const { json } = await submit(provider, receiver.url, { headers: {} });
    await waitFor(() => receiver.deliveries.length === 2 && provider.stats.webhooksDelivered === 2);

    expect(statuses(receiver.deliveries)).toEqual(["processing", "completed"]);
    for (const delivery of receiver.deliveries) {
      expect(delivery.headers["content-type"]).toBe("application/json");
      expect(verifyHmacHex(provider.webhookSecret, delivery.raw, delivery.headers["x-webhook-signature"] as string)).toEqual({ ok: true });
      expect(verifyStandardWebhook(provider.webhookSecret, delivery.raw, delivery.headers)).toEqual({ ok: true });
      expect(delivery.headers["webhook-id"]).toBe(`msg_${json.job_id}_${delivery.body.status}`);
    }
    expect(receiver.deliveries[0]?.body).toEqual({ job_id: json.job_id, status: "processing" });
    expect(receiver.deliveries[1]?.body).toMatchObject({
      job_id: json.job_id,
      status: "completed",
      text: "hello brave new world",
      duration: 1.6,
    });
    expect(receiver.deliveries[1]?.body.words?.[1]).toEqual({ text: "brave", start: 0.4, end: 0.8, confidence: 1 });

    const job = provider.job(json.job_id);
    expect(job?.status).toBe("completed");
    expect(job?.finishedAt).toBeGreaterThanOrEqual(job?.createdAt ?? Infinity);
    expect(job?.deliveries.completed).toEqual({ attempts: 1, state: "delivered" });
    expect(provider.stats).toMatchObject({ webhooksSent: 2, webhooksDelivered: 2, webhooksFailed: 0 });
  });

  it("retries a 5xx on the schedule until it is delivered", async () => {
    const provider = await devProvider({ sendProcessingWebhook: false });
    const receiver = await startReceiver((n) => (n <= 2 ? 500 : 200));

    const { json } = await submit(provider, receiver.url);
    await waitFor(() => provider.job(json.job_id)?.deliveries.completed?.state === "delivered");

    expect(receiver.deliveries).toHaveLength(3);
    expect(provider.job(json.job_id)?.deliveries.completed).toEqual({ attempts: 3, state: "delivered", lastError: "HTTP 500" });
  });

  it("retries an attempt that times out", async () => {
    const provider = await devProvider({ sendProcessingWebhook: false, deliveryTimeoutMs: 50 });
    const receiver = await startReceiver((n) => (n === 1 ? "hang" : 200));

    const { json } = await submit(provider, receiver.url);
    await waitFor(() => provider.job(json.job_id)?.deliveries.completed?.state === "delivered");

    expect(provider.job(json.job_id)?.deliveries.completed).toEqual({
      attempts: 2,
      state: "delivered",
      lastError: "no answer within 50 ms",
    });
  });

  it("stops after one attempt on a 4xx", async () => {
    const provider = await devProvider({ sendProcessingWebhook: false });
    const receiver = await startReceiver(() => 401);

    const { json } = await submit(provider, receiver.url);
    await waitFor(() => provider.job(json.job_id)?.deliveries.completed?.state === "failed");
    await new Promise((resolve) => setTimeout(resolve, 60)); // longer than the whole retry schedule

    expect(receiver.deliveries).toHaveLength(1);
    expect(provider.deadLetters()).toEqual([]);
    expect(provider.stats.webhooksFailed).toBe(1);
  });

  it("dead-letters after the schedule, and /redeliver sends it again", async () => {
    let receiverUp = false;
    const provider = await devProvider({ sendProcessingWebhook: false, retryDelaysMs: [5, 5] });
    const receiver = await startReceiver(() => (receiverUp ? 200 : 503));

    const { json } = await submit(provider, receiver.url);
    await waitFor(() => provider.deadLetters().length === 1);
    expect(provider.deadLetters()).toEqual([{ jobId: json.job_id, status: "completed", attempts: 3, lastError: "HTTP 503" }]);

    receiverUp = true;
    const answer = await api(provider, "POST", `/v1/transcripts/${json.job_id}/redeliver`);
    expect(answer).toEqual({ status: 202, json: { status: "redelivering" } });
    await waitFor(() => provider.job(json.job_id)?.deliveries.completed?.state === "delivered");

    expect(receiver.deliveries).toHaveLength(4);
    expect(receiver.deliveries[3]?.body).toMatchObject({ status: "completed", text: "hello brave new world" });
    expect(provider.deadLetters()).toEqual([]);
    expect(provider.stats.redeliveries).toBe(1);
  });

  it("refuses to redeliver an unknown (404) or unfinished (409) job", async () => {
    const provider = await devProvider({ processingDelayMs: 10_000 });
    const receiver = await startReceiver();
    const { json } = await submit(provider, receiver.url);

    expect((await api(provider, "POST", "/v1/transcripts/job_nope/redeliver")).status).toBe(404);
    expect((await api(provider, "POST", `/v1/transcripts/${json.job_id}/redeliver`)).status).toBe(409);
    await expect(provider.redeliver(json.job_id)).rejects.toThrow(/processing/);
  });

  it("redeliver() resolves once the round has ended", async () => {
    const provider = await devProvider({ sendProcessingWebhook: false });
    const receiver = await startReceiver();
    const { json } = await submit(provider, receiver.url);
    await waitFor(() => receiver.deliveries.length === 1);

    await provider.redeliver(json.job_id);

    expect(receiver.deliveries).toHaveLength(2);
    expect(receiver.deliveries[1]?.headers["webhook-id"]).toBe(receiver.deliveries[0]?.headers["webhook-id"]);
  });
});

describe("faults", () => {
  it("thinPayloads: the terminal webhook carries only job_id and status", async () => {
    const provider = await devProvider({ faults: { thinPayloads: true } });
    const receiver = await startReceiver();

    const { json } = await submit(provider, receiver.url);
    await waitFor(() => receiver.deliveries.length === 2);

    expect(receiver.deliveries[1]?.body).toEqual({ job_id: json.job_id, status: "completed" });
    const result = await api(provider, "GET", `/v1/transcripts/${json.job_id}`);
    expect(result.json.text).toBe("hello brave new world");
  });

  it("duplicateDeliveries: every message arrives that many extra times", async () => {
    const provider = await devProvider({ faults: { duplicateDeliveries: 2 } });
    const receiver = await startReceiver();

    await submit(provider, receiver.url);
    await waitFor(() => receiver.deliveries.length === 6);

    expect(statuses(receiver.deliveries)).toEqual(["processing", "processing", "processing", "completed", "completed", "completed"]);
    expect(new Set(receiver.deliveries.slice(3).map((delivery) => delivery.raw.toString()))).toHaveProperty("size", 1);
  });

  it("outOfOrder: the terminal webhook first, then a stale processing one", async () => {
    const provider = await devProvider({ faults: { outOfOrder: true } });
    const receiver = await startReceiver();

    const { json } = await submit(provider, receiver.url);
    await waitFor(() => receiver.deliveries.length === 2);

    expect(statuses(receiver.deliveries)).toEqual(["completed", "processing"]);
    expect(receiver.deliveries[1]?.body).toEqual({ job_id: json.job_id, status: "processing" });
  });

  it("webhookBeforeSubmitResponse: the webhook arrives before the 201", async () => {
    const provider = await devProvider({ processingDelayMs: 5_000, faults: { webhookBeforeSubmitResponse: true } });
    let submitAnswered = false;
    const arrivedBeforeAnswer: boolean[] = [];
    const receiver = await startReceiver(() => {
      arrivedBeforeAnswer.push(!submitAnswered);
      return 200;
    });

    const { status, json } = await submit(provider, receiver.url);
    submitAnswered = true;

    expect(status).toBe(201);
    expect(arrivedBeforeAnswer).toEqual([true]);
    expect(receiver.deliveries[0]?.body).toMatchObject({ job_id: json.job_id, status: "completed" });
  });

  it("errorResult: chosen jobs end in error with a message", async () => {
    const provider = await devProvider({ faults: { errorResult: (audioUrl) => audioUrl.includes("broken") } });
    const receiver = await startReceiver();

    const failed = await submit(provider, receiver.url, { audioUrl: "https://example.com/broken.wav" });
    const fine = await submit(provider, receiver.url, { audioUrl: "https://example.com/fine.wav" });
    await waitFor(() => receiver.deliveries.length === 4);

    const terminal = receiver.deliveries.filter((delivery) => delivery.body.status !== "processing");
    expect(terminal.find((delivery) => delivery.body.job_id === failed.json.job_id)?.body).toEqual({
      job_id: failed.json.job_id,
      status: "error",
      error: expect.stringMatching(/errorResult/),
    });
    expect(terminal.find((delivery) => delivery.body.job_id === fine.json.job_id)?.body.status).toBe("completed");
    expect(provider.job(failed.json.job_id)?.error).toMatch(/errorResult/);
  });
});

describe("processing time", () => {
  it("spreads job durations over processingDelayMs ± processingJitterMs", async () => {
    const provider = await devProvider({ processingDelayMs: 60, processingJitterMs: 40, sendProcessingWebhook: false });
    const receiver = await startReceiver();
    for (let i = 0; i < 12; i++) await submit(provider, receiver.url);
    await waitFor(() => provider.jobs().every((job) => job.finishedAt !== undefined));
    const durations = provider.jobs().map((job) => job.finishedAt! - job.createdAt);
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(19);
    expect(Math.max(...durations)).toBeLessThan(200);
    expect(new Set(durations.map((ms) => Math.round(ms / 10))).size).toBeGreaterThan(2);
  });
});

describe("GET /v1/transcripts/{job_id}", () => {
  it("answers the current state, then the full result, and 404 for an unknown job", async () => {
    const provider = await devProvider({ processingDelayMs: 200, sendProcessingWebhook: false });
    const receiver = await startReceiver();
    const { json } = await submit(provider, receiver.url, { headers: {} });

    const early = await api(provider, "GET", `/v1/transcripts/${json.job_id}`);
    expect(early).toEqual({ status: 200, json: { job_id: json.job_id, status: "processing" } });

    await waitFor(() => receiver.deliveries.length === 1);
    const done = await api(provider, "GET", `/v1/transcripts/${json.job_id}`);
    expect(transcriptBodySchema.parse(done.json)).toEqual(receiver.deliveries[0]?.body);

    const unknown = await api(provider, "GET", "/v1/transcripts/job_unknown");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatch(/job_unknown/);
    expect((await api(provider, "GET", `/v1/transcripts/${json.job_id}`, { auth: false })).status).toBe(401);
    expect(provider.stats.statusFetches).toBe(4);
  });
});

describe("sidecarEngine and publicDir", () => {
  async function samples(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), "hookscribe-dev-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, "call.wav"), pcmWav(2));
    await writeFile(path.join(dir, "call.txt"), "  hello brave new world\n");
    await writeFile(path.join(dir, "silent.wav"), pcmWav(1));
    return dir;
  }

  it("returns the published text with words spread over the WAV's duration", async () => {
    const provider = await devProvider({ engine: sidecarEngine, publicDir: await samples(), sendProcessingWebhook: false });
    const receiver = await startReceiver();

    await submit(provider, receiver.url, { audioUrl: `${provider.url}/files/call.wav` });
    await waitFor(() => receiver.deliveries.length === 1);

    const body = receiver.deliveries[0]?.body;
    expect(body).toMatchObject({ status: "completed", text: "hello brave new world", duration: 2 });
    expect(body?.words?.map((word) => [word.start, word.end])).toEqual([[0, 0.5], [0.5, 1], [1, 1.5], [1.5, 2]]);
  });

  it("ends the job in error, explaining why, when the sidecar is missing", async () => {
    const provider = await devProvider({ engine: sidecarEngine, publicDir: await samples(), sendProcessingWebhook: false });
    const receiver = await startReceiver();

    await submit(provider, receiver.url, { audioUrl: `${provider.url}/files/silent.wav` });
    await waitFor(() => receiver.deliveries.length === 1);

    expect(receiver.deliveries[0]?.body.status).toBe("error");
    expect(receiver.deliveries[0]?.body.error).toMatch(/silent\.txt.*does not recognise speech/);
  });

  it("serves publicDir read-only and refuses path traversal", async () => {
    const provider = await devProvider({ publicDir: await samples() });

    const text = await fetch(`${provider.url}/files/call.txt`);
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await text.text()).toBe("  hello brave new world\n");
    expect((await fetch(`${provider.url}/files/%2e%2e%2fetc%2fpasswd`)).status).toBe(403);
    expect((await fetch(`${provider.url}/files/nothing.wav`)).status).toBe(404);
    expect((await fetch(`${provider.url}/files/call.txt`, { method: "POST" })).status).toBe(405);
  });
});

describe("options", () => {
  it("rejects bad options with a message naming them", async () => {
    await expect(startDevProvider({ port: -1 })).rejects.toThrow(/Invalid startDevProvider options: port: must be >= 0, got -1/);
    await expect(startDevProvider({ faults: { failFirstSubmit: 1 } as never })).rejects.toThrow(/faults\.failFirstSubmit: unknown option \(did you mean "failFirstSubmits"\?\)/);
    await expect(startDevProvider({ publicDir: "/definitely/not/here" })).rejects.toThrow(/not a directory/);
  });

  it("generates an API key and a whsec_ secret when none is given", async () => {
    const provider = await devProvider();

    expect(provider.apiKey).toMatch(/^dev_[0-9a-f]{32}$/);
    expect(provider.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(provider.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
