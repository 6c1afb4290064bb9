import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { type Socket, connect } from "node:net";
import { type DeliveryInfo, type Transcript, type TranscriptionJob, signHmacHex, signStandardWebhook } from "hookscribe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Harness, TEST_STORE, collect, harness, until } from "./helpers.js";

/**
 * The embedded receiver over real HTTP: every bad request gets its own status and touches
 * nothing, duplicates and stale statuses change nothing (seen from the wire), slow clients and
 * shutdown.
 */

/** The emulator accepts the job but stays silent: the test plays the provider's webhooks itself. */
const SILENT_DEV = { processingDelayMs: 60_000, sendProcessingWebhook: false };

const TEXT = "hello from a hand made webhook";
const WORDS = TEXT.split(" ").map((text, i) => ({ text, start: i * 0.5, end: i * 0.5 + 0.4, confidence: 0.9 }));

interface Pending {
  job: TranscriptionJob;
  jobId: string;
  /** The webhook URL the provider was given. */
  url: string;
  ref: string;
  token: string;
  statuses: string[];
}

/** Submits a real job through the client and returns it once it is `queued` in the store. */
async function pendingJob(h: Harness, audio = "https://audio.example/pending.wav"): Promise<Pending> {
  await h.client.start();
  const statuses: string[] = [];
  const job = h.client.transcribe(audio, { onStatus: (s) => statuses.push(s) });
  job.catch(() => undefined);
  const jobId = await job.submitted;
  await until(() => job.status === "queued");
  const url = h.dev.job(jobId)!.webhookUrl!;
  const [token, ref] = url.split("/").reverse() as [string, string];
  expect(url).toBe(`${h.client.receiverUrl}/webhooks/generic/${ref}/${token}`);
  return { job, jobId, url, ref, token, statuses };
}

/** A full body of the reference protocol. */
function fullBody(jobId: string, status: "processing" | "completed" | "error" | string, extra: object = {}): string {
  if (status === "processing") return JSON.stringify({ job_id: jobId, status, ...extra });
  return JSON.stringify({ job_id: jobId, status, text: TEXT, words: WORDS, language: "en", duration: 3.5, ...extra });
}

function signed(secret: string, body: string, contentType = "application/json"): Record<string, string> {
  return { "content-type": contentType, "x-webhook-signature": signHmacHex(secret, body) };
}

/** A string body without a content-type header would get text/plain from fetch; bytes get none. */
async function post(url: string, body: string | Uint8Array, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { method: "POST", body, headers });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** Posts a correctly signed delivery. */
function deliver(h: Harness, url: string, body: string): ReturnType<typeof post> {
  return post(url, body, signed(h.dev.webhookSecret, body));
}

/** A raw TCP client, for what fetch cannot do: partial requests, stalls, chunked bodies. */
class RawClient {
  data = Buffer.alloc(0);
  closed = false;
  private readonly socket: Socket;
  private readonly listeners = new Set<() => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.notify();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.closed = true;
      this.notify();
    });
  }

  static connect(receiverUrl: string): Promise<RawClient> {
    const { hostname, port } = new URL(receiverUrl);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The first complete response, or `undefined` if the socket closed (or `timeoutMs` passed) without one. */
  async response(timeoutMs = 2000): Promise<{ status: number; head: string; body: string } | undefined> {
    await this.waitFor(() => this.parsed() !== undefined || this.closed, timeoutMs);
    return this.parsed();
  }

  /** Resolves with whether the server closed the socket within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    await this.waitFor(() => this.closed, timeoutMs);
    return this.closed;
  }

  /** Whether the server sent `100 Continue`: it admitted the request and waits for its body. */
  async continued(timeoutMs = 2000): Promise<boolean> {
    await this.waitFor(() => this.interim() || this.parsed() !== undefined || this.closed, timeoutMs);
    return this.interim();
  }

  /** Stops reading what the server sends (it stays in the socket's buffers), as a client does that reads only once it has sent everything. */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  private interim(): boolean {
    return this.data.toString("latin1").startsWith("HTTP/1.1 100 Continue\r\n\r\n");
  }

  /** The final response; a `100 Continue` before it is skipped. */
  private parsed(): { status: number; head: string; body: string } | undefined {
    const text = this.data.toString("latin1").replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, "");
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const head = text.slice(0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const body = text.slice(end + 4);
    if (body.length < length) return undefined;
    return { status: Number(head.split(" ")[1]), head, body: body.slice(0, length) };
  }

  private waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return;
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.listeners.add(check);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function pathOf(url: string): string {
  return new URL(url).pathname;
}

describe("receiver: a valid delivery", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  it("answers exactly 200 {ok:true} to signed processing then completed, resolves the job with that text and stores it", async () => {
    h = await harness({ dev: SILENT_DEV });
    const events: Transcript[] = [];
    h.client.on("transcript", (t) => events.push(t));
    const p = await pendingJob(h);

    const processingBody = fullBody(p.jobId, "processing");
    const processing = await post(p.url, processingBody, signed(h.dev.webhookSecret, processingBody, "application/json; charset=utf-8"));
    expect(processing.status).toBe(200);
    expect(processing.body).toBe('{"ok":true}');
    expect(processing.headers.get("content-type")).toBe("application/json");
    await until(() => p.job.status === "processing");

    const body = fullBody(p.jobId, "completed");
    const completed = await deliver(h, p.url, body);
    expect(completed.status).toBe(200);
    expect(completed.body).toBe('{"ok":true}');

    const transcript = await p.job;
    expect(transcript).toMatchObject({ jobId: p.jobId, provider: "generic", status: "completed", text: TEXT, language: "en", durationSec: 3.5 });
    expect(transcript.words).toEqual(WORDS);
    expect(transcript.raw).toEqual(JSON.parse(body));
    expect(p.statuses).toEqual(["queued", "processing", "completed"]);
    expect(events.map((t) => t.jobId)).toEqual([p.jobId]);

    await h.client.close();
    const stored = await h.stored();
    expect(Object.values(stored.jobs)).toMatchObject([{ ref: p.ref, jobId: p.jobId, status: "completed", processed: true }]);
    expect(stored.inbox).toEqual({});
    // The JSON store folds its journal into the document at close.
    if (TEST_STORE === "json") expect(await readdir(`${h.storePath}.journal`)).toEqual([]);
    expect((await stored.transcript(p.ref))?.text).toBe(TEXT);
  });
  it("stores a completed delivery that carries its transcript as the finished job before its 200: nothing is left for the worker", async () => {
    h = await harness({ dev: SILENT_DEV });
    const events = collect(h.client);
    const p = await pendingJob(h);
    const answer = await deliver(h, p.url, fullBody(p.jobId, "completed"));
    expect(answer.status).toBe(200);
    // Read at once, from the store: the answer came after the job was stored finished.
    const stored = await h.client.inspect(p.jobId);
    expect(stored).toMatchObject({ status: "completed", processed: true });
    expect(stored.transcript?.text).toBe(TEXT);
    expect(await h.client.deadLetters()).toEqual([]);
    expect((await p.job).text).toBe(TEXT);
    expect(events.map((t) => t.jobId)).toEqual([p.jobId]);
  });
});

describe("receiver: bad requests get their own status and touch nothing", () => {
  const MAX = 1024;
  let h: Harness;
  let p: Pending;
  let secret: string;

  beforeAll(async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, maxBodyBytes: MAX } } });
    p = await pendingJob(h);
    secret = h.dev.webhookSecret;
  });
  afterAll(async () => h?.cleanup());

  /** Every refused request of this section: what it sends and the status it must get. */
  function badRequests(): { name: string; expected: number; send: () => Promise<{ status: number; body: string }> }[] {
    const base = h.client.receiverUrl!;
    const completed = fullBody(p.jobId, "completed");
    const otherToken = randomBytes(24).toString("base64url");
    const otherRef = randomBytes(12).toString("base64url");
    const big = fullBody(p.jobId, "completed", { padding: "x".repeat(2 * MAX) });
    return [
      { name: "unknown path", expected: 404, send: () => post(`${base}/nope`, completed, signed(secret, completed)) },
      { name: "a job's webhook path without its token", expected: 401, send: () => post(`${base}/webhooks/generic/${p.ref}`, completed, signed(secret, completed)) },
      { name: "another provider's route", expected: 404, send: () => post(`${base}/webhooks/other/${p.ref}/${p.token}`, completed, signed(secret, completed)) },
      { name: "GET on the webhook route", expected: 405, send: async () => {
        const response = await fetch(p.url);
        expect(response.headers.get("allow")).toBe("POST");
        return { status: response.status, body: await response.text() };
      } },
      { name: "text/plain", expected: 415, send: () => post(p.url, completed, signed(secret, completed, "text/plain")) },
      { name: "no content type", expected: 415, send: () => post(p.url, Buffer.from(completed), { "x-webhook-signature": signHmacHex(secret, completed) }) },
      { name: "body over maxBodyBytes with a Content-Length", expected: 413, send: () => post(p.url, big, signed(secret, big)) },
      { name: "body over maxBodyBytes, chunked without Content-Length", expected: 413, send: async () => {
        const raw = await RawClient.connect(base);
        const head =
          `POST ${pathOf(p.url)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `X-Webhook-Signature: ${signHmacHex(secret, big)}\r\nTransfer-Encoding: chunked\r\n\r\n`;
        await raw.write(head);
        // Three chunks that pass the limit, and no terminating chunk: the answer must not wait for the end.
        for (let i = 0; i < 3; i++) await raw.write(`200\r\n${"y".repeat(0x200)}\r\n`);
        const response = await raw.response(2000);
        raw.destroy();
        return { status: response?.status ?? 0, body: response?.body ?? "" };
      } },
      { name: "declared Content-Length over the limit, body never sent", expected: 413, send: async () => {
        const raw = await RawClient.connect(base);
        await raw.write(`POST ${pathOf(p.url)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"job_id"`);
        const response = await raw.response(2000);
        raw.destroy();
        return { status: response?.status ?? 0, body: response?.body ?? "" };
      } },
      { name: "invalid JSON", expected: 400, send: () => post(p.url, '{"job_id": "x", ', signed(secret, '{"job_id": "x", ')) },
      { name: "JSON that is not the schema (status done)", expected: 400, send: () => {
        const body = fullBody(p.jobId, "done");
        return post(p.url, body, signed(secret, body));
      } },
      { name: "job_id of another job", expected: 400, send: () => {
        const body = fullBody("job_someone_else", "completed");
        return post(p.url, body, signed(secret, body));
      } },
      { name: "wrong token in the URL", expected: 401, send: () => post(p.url.replace(p.token, otherToken), completed, signed(secret, completed)) },
      { name: "unknown ref", expected: 401, send: () => post(p.url.replace(p.ref, otherRef), completed, signed(secret, completed)) },
      { name: "unsigned", expected: 401, send: () => post(p.url, completed, { "content-type": "application/json" }) },
      { name: "signed with another secret", expected: 401, send: () => post(p.url, completed, signed("whsec_" + randomBytes(24).toString("base64"), completed)) },
      { name: "signature of another body", expected: 401, send: () => post(p.url, completed, signed(secret, fullBody(p.jobId, "error"))) },
      { name: "Standard Webhooks signature of another secret", expected: 401, send: () =>
        post(p.url, completed, { "content-type": "application/json", ...signStandardWebhook("whsec_" + randomBytes(24).toString("base64"), "msg_1", completed) }) },
    ];
  }

  it.each([
    ["unknown path", 404],
    ["a job's webhook path without its token", 401],
    ["another provider's route", 404],
    ["GET on the webhook route", 405],
    ["text/plain", 415],
    ["no content type", 415],
    ["body over maxBodyBytes with a Content-Length", 413],
    ["body over maxBodyBytes, chunked without Content-Length", 413],
    ["declared Content-Length over the limit, body never sent", 413],
    ["invalid JSON", 400],
    ["JSON that is not the schema (status done)", 400],
    ["job_id of another job", 400],
    ["wrong token in the URL", 401],
    ["unknown ref", 401],
    ["unsigned", 401],
    ["signed with another secret", 401],
    ["signature of another body", 401],
    ["Standard Webhooks signature of another secret", 401],
  ] as const)("%s → %i with a JSON error that names no secret", async (name, expected) => {
    const request = badRequests().find((r) => r.name === name);
    expect(request?.expected).toBe(expected);
    const response = await request!.send();
    expect(response.status).toBe(expected);
    const body = JSON.parse(response.body) as { error: string };
    expect(body.error).toEqual(expect.any(String));
    expect(body.error.length).toBeGreaterThan(0);
    expect(response.body).not.toContain(secret);
    expect(response.body).not.toContain(p.token);
  });

  it("names the cause in the error body", async () => {
    const byName = new Map(badRequests().map((r) => [r.name, r]));
    expect(JSON.parse((await byName.get("JSON that is not the schema (status done)")!.send()).body).error).toMatch(/schema.*status/);
    expect(JSON.parse((await byName.get("invalid JSON")!.send()).body).error).toMatch(/not valid JSON/);
    expect(JSON.parse((await byName.get("unsigned")!.send()).body).error).toMatch(/missing signature/);
    expect(JSON.parse((await byName.get("body over maxBodyBytes with a Content-Length")!.send()).body).error).toContain(String(MAX));
  });

  it("none of them changes the store, and the next valid delivery is answered 200", async () => {
    const before = await h.stored();
    expect(before.jobs[p.ref]).toMatchObject({ jobId: p.jobId, status: "queued", processed: false });

    const requests = badRequests();
    expect(requests).toHaveLength(18);
    for (const request of requests) {
      const { status } = await request.send();
      expect(status, request.name).toBe(request.expected);
    }
    // Let anything a bad request might have queued reach the store.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const after = await h.stored();
    expect(after.writeMark).toBe(before.writeMark);
    expect(after.jobs).toEqual(before.jobs);
    expect(after.inbox).toEqual({});
    expect(p.job.status).toBe("queued");
    expect(p.statuses).toEqual(["queued"]);

    const ok = await deliver(h, p.url, fullBody(p.jobId, "completed"));
    expect(ok.status).toBe(200);
    expect((await p.job).text).toBe(TEXT);

    await h.client.close();
    const stored = await h.stored();
    expect(Object.keys(stored.jobs)).toEqual([p.ref]);
    expect(stored.jobs[p.ref]).toMatchObject({ status: "completed", processed: true });
  });
});

describe("receiver: a request target that is not a URL", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  it("answers an absolute-form target with an invalid port 400 or 404, and keeps serving (no crash)", async () => {
    h = await harness({ dev: SILENT_DEV });
    const p = await pendingJob(h);
    const raw = await RawClient.connect(h.client.receiverUrl!);
    // llhttp accepts this request line; `new URL()` throws on it (port out of range).
    await raw.write(`POST http://a:99999${pathOf(p.url)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    const answer = await raw.response(1000);
    raw.destroy();
    expect([400, 404]).toContain(answer?.status);

    expect((await deliver(h, p.url, fullBody(p.jobId, "completed"))).status).toBe(200);
    expect((await p.job).text).toBe(TEXT);
  });
});

describe("receiver: duplicates and stale states", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  it("answers the same completed delivery posted 5 times at once with 200 each and announces it once", async () => {
    h = await harness({ dev: SILENT_DEV });
    const events: Transcript[] = [];
    h.client.on("transcript", (t) => events.push(t));
    const p = await pendingJob(h);
    const body = fullBody(p.jobId, "completed");

    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(h, p.url, body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.every((a) => a.body === '{"ok":true}')).toBe(true);
    expect((await p.job).text).toBe(TEXT);

    // And once more after it was processed.
    expect((await deliver(h, p.url, body)).status).toBe(200);
    await h.client.close();
    expect(events.map((t) => t.jobId)).toEqual([p.jobId]);

    const stored = await h.stored();
    expect(Object.values(stored.jobs)).toMatchObject([{ jobId: p.jobId, status: "completed", processed: true }]);
    expect(stored.inbox).toEqual({});
    expect(stored.deadLetters).toEqual({});
  });

  it("answers a processing delivery that arrives after completed with 200 and keeps the job completed", async () => {
    h = await harness({ dev: SILENT_DEV });
    const p = await pendingJob(h);
    expect((await deliver(h, p.url, fullBody(p.jobId, "completed"))).status).toBe(200);
    await p.job;

    const stale = await deliver(h, p.url, fullBody(p.jobId, "processing"));
    expect(stale.status).toBe(200);
    expect(stale.body).toBe('{"ok":true}');
    // An error after completed is just as stale.
    expect((await deliver(h, p.url, JSON.stringify({ job_id: p.jobId, status: "error", error: "late" }))).status).toBe(200);

    const state = await h.stored();
    expect(state.jobs[p.ref]).toMatchObject({ status: "completed" });
    expect(p.statuses).toEqual(["queued", "completed"]);

    await h.client.close();
    const stored = await h.stored();
    expect(stored.jobs[p.ref]).toMatchObject({ status: "completed", processed: true });
    expect(stored.jobs[p.ref]!.error).toBeUndefined();
    await expect(h.restart().job(p.jobId)).resolves.toMatchObject({ text: TEXT });
  });
});

describe("receiver: slow clients", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  /** What the server sent before closing: nothing, or one status line. */
  function statusLine(raw: RawClient): string {
    return raw.data.toString("latin1").split("\r\n")[0]!;
  }

  it("drops a client that stalls inside the request line or the headers within the headers timeout, and keeps serving", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, headersTimeoutMs: 200 } } });
    const p = await pendingJob(h);

    const started = Date.now();
    const lineOnly = await RawClient.connect(h.client.receiverUrl!);
    await lineOnly.write("POST /webhooks/gen");
    const halfHeaders = await RawClient.connect(h.client.receiverUrl!);
    await halfHeaders.write(`POST ${pathOf(p.url)} HTTP/1.1\r\nHost: x\r\nContent-Type: appl`);

    expect(await lineOnly.closedWithin(2000)).toBe(true);
    expect(await halfHeaders.closedWithin(2000)).toBe(true);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2000);

    const ok = await deliver(h, p.url, fullBody(p.jobId, "completed"));
    expect(ok.status).toBe(200);
    expect((await p.job).text).toBe(TEXT);
  });

  it("drops a client that connects and never sends a byte", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, headersTimeoutMs: 200 } } });
    await h.client.start();
    const started = Date.now();
    const silent = await RawClient.connect(h.client.receiverUrl!);
    expect(await silent.closedWithin(2000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    silent.destroy();
  });

  it("answers a request that ran out of time 408 (or just closes), not 400 as if it were malformed", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, headersTimeoutMs: 200 } } });
    await h.client.start();
    const raw = await RawClient.connect(h.client.receiverUrl!);
    await raw.write("POST /webhooks/generic/abc/def HTTP/1.1\r\nHost: x\r\n");
    expect(await raw.closedWithin(2000)).toBe(true);
    // Node's own answer to ERR_HTTP_REQUEST_TIMEOUT is "408 Request Timeout"; a 400 tells the sender its request was malformed.
    expect(["", "HTTP/1.1 408 Request Timeout"]).toContain(statusLine(raw));
  });

  it("drops a client that stalls inside the body, stores nothing from it, and close() does not wait for it", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, headersTimeoutMs: 200, requestTimeoutMs: 400 } } });
    const p = await pendingJob(h);
    const body = fullBody(p.jobId, "completed");
    const request =
      `POST ${pathOf(p.url)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `X-Webhook-Signature: ${signHmacHex(h.dev.webhookSecret, body)}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`;

    const started = Date.now();
    const staller = await RawClient.connect(h.client.receiverUrl!);
    await staller.write(request);
    expect(await staller.closedWithin(2000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(statusLine(staller)).not.toMatch(/^HTTP\/1\.1 200/);
    expect(p.job.status).toBe("queued");
    expect((await h.stored()).jobs[p.ref]).toMatchObject({ status: "queued" });

    // A client that hangs up mid-body must not keep an in-flight delivery (and close()) waiting.
    const quitter = await RawClient.connect(h.client.receiverUrl!);
    await quitter.write(request);
    await new Promise((resolve) => setTimeout(resolve, 30));
    quitter.destroy();

    expect((await deliver(h, p.url, body)).status).toBe(200);
    await p.job;
    const closeStarted = Date.now();
    await h.client.close();
    expect(Date.now() - closeStarted).toBeLessThan(1000);
  });
});

describe("receiver: close()", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  it("answers a delivery that arrives once close() began with 503 or a refused connection, finishes the one in flight, and leaves a flushed store", async () => {
    h = await harness({ dev: SILENT_DEV });
    const a = await pendingJob(h, "https://audio.example/a.wav");
    const b = await pendingJob(h, "https://audio.example/b.wav");
    const secret = h.dev.webhookSecret;
    const bodyA = fullBody(a.jobId, "completed");
    const bodyB = fullBody(b.jobId, "completed");
    const headOf = (url: string, body: string) =>
      `POST ${pathOf(url)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `X-Webhook-Signature: ${signHmacHex(secret, body)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;

    // A: a delivery in flight (headers in, half the body). B: a request whose headers are not complete yet.
    const inFlight = await RawClient.connect(h.client.receiverUrl!);
    await inFlight.write(`${headOf(a.url, bodyA)}\r\n${bodyA.slice(0, 10)}`);
    const late = await RawClient.connect(h.client.receiverUrl!);
    await late.write(headOf(b.url, bodyB));
    await new Promise((resolve) => setTimeout(resolve, 50));

    const closing = h.client.close();
    await new Promise((resolve) => setTimeout(resolve, 20));

    // A new connection once close() began: refused, or 503.
    const fresh = await fetch(b.url, { method: "POST", body: bodyB, headers: signed(secret, bodyB) }).then(
      (response) => response.status,
      () => "refused" as const,
    );
    expect([503, "refused"]).toContain(fresh);

    // B completes its request on a connection opened before close(): 503 (or closed), never 200.
    await late.write(`\r\n${bodyB}`);
    const lateAnswer = await late.response(2000);
    if (lateAnswer) {
      expect(lateAnswer.status).toBe(503);
      expect(JSON.parse(lateAnswer.body).error).toMatch(/shutting down/);
    } else {
      expect(late.closed).toBe(true);
    }

    // A, already in flight, is finished: stored and acknowledged.
    await inFlight.write(bodyA.slice(10));
    const answerA = await inFlight.response(2000);
    expect(answerA?.status).toBe(200);

    await closing;
    await expect(a.job).resolves.toMatchObject({ jobId: a.jobId, text: TEXT });
    await expect(b.job).rejects.toMatchObject({ name: "AbortError" });

    const stored = await h.stored();
    expect(stored.jobs[a.ref]).toMatchObject({ jobId: a.jobId, status: "completed", processed: true });
    expect(stored.jobs[b.ref]).toMatchObject({ jobId: b.jobId, status: "queued", processed: false });
    expect(stored.inbox).toEqual({});
    // Flushed: the JSON store's journal is folded into its document.
    if (TEST_STORE === "json") expect(await readdir(`${h.storePath}.journal`)).toEqual([]);
    expect((await stored.transcript(a.ref))?.text).toBe(TEXT);
  });

  it("refuses deliveries after close() resolved, and a restarted client on the same store takes them", async () => {
    h = await harness({ dev: SILENT_DEV });
    const p = await pendingJob(h);
    const oldUrl = h.client.receiverUrl!;
    await h.client.close();
    const body = fullBody(p.jobId, "completed");
    const outcome = await fetch(p.url, { method: "POST", body, headers: signed(h.dev.webhookSecret, body) }).then(
      (response) => response.status,
      () => "refused" as const,
    );
    expect(outcome).toBe("refused");

    const client = h.restart();
    await client.start();
    const url = p.url.replace(oldUrl, client.receiverUrl!);
    expect((await post(url, body, signed(h.dev.webhookSecret, body))).status).toBe(200);
    await expect(client.job(p.jobId)).resolves.toMatchObject({ text: TEXT });
  });
});

/** `POST` head of a request to `url` with a JSON body of `length` bytes (no body). */
function postHead(url: string, length: number | "chunked", extra: Record<string, string> = {}): string {
  const framing = length === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`;
  const headers = Object.entries(extra).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return `POST ${pathOf(url)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}\r\n${headers}\r\n`;
}

function headerOf(head: string, name: string): string | undefined {
  return new RegExp(`\\r\\n${name}:\\s*([^\\r]*)`, "i").exec(head)?.[1];
}

describe("receiver: a stranger cannot make it buffer a body", () => {
  let h: Harness;
  let p: Pending;
  beforeAll(async () => {
    h = await harness({ dev: SILENT_DEV });
    p = await pendingJob(h);
  });
  afterAll(async () => h?.cleanup());

  const FOUR_MIB = 4 * 1024 * 1024;
  it.each([
    ["a wrong token", 401, () => p.url.replace(p.token, randomBytes(24).toString("base64url"))],
    ["an unknown ref", 401, () => p.url.replace(p.ref, randomBytes(12).toString("base64url"))],
    ["another provider's route", 404, () => p.url.replace("/generic/", "/other/")],
  ] as const)("answers %s with a declared 4 MiB body %i before a byte of the body is sent, and closes the socket", async (_, expected, url) => {
    const raw = await RawClient.connect(h.client.receiverUrl!);
    await raw.write(postHead(url(), FOUR_MIB));
    const answer = await raw.response(5000);
    expect(answer?.status).toBe(expected);
    expect(await raw.closedWithin(5000)).toBe(true);
  });
});

describe("receiver: a refusal reaches a sender still sending its body", () => {
  const MAX = 1024;
  let h: Harness;
  let p: Pending;
  beforeAll(async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, maxBodyBytes: MAX } } });
    p = await pendingJob(h);
  });
  afterAll(async () => h?.cleanup());

  /**
   * A sender that writes its body in pieces and reads the answer only once it sent everything, as
   * many synchronous HTTP clients do: a receiver that closes on it makes it fail with EPIPE or a
   * reset, and the status is lost.
   */
  async function sendSlowlyThenRead(head: string, pieces: string[]): Promise<{ answer: Awaited<ReturnType<RawClient["response"]>>; writeError?: string }> {
    const raw = await RawClient.connect(h.client.receiverUrl!);
    raw.pauseReading();
    let writeError: string | undefined;
    try {
      await raw.write(head);
      for (const piece of pieces) {
        await raw.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    } catch (error) {
      writeError = (error as NodeJS.ErrnoException).code ?? String(error);
    }
    raw.resumeReading();
    const answer = await raw.response(5000);
    raw.destroy();
    return { answer, writeError };
  }

  it("answers 413 to a body over maxBodyBytes with a Content-Length, written slowly, and the sender reads it", async () => {
    const pieces = Array.from({ length: 32 }, () => "x".repeat(2048));
    const { answer, writeError } = await sendSlowlyThenRead(postHead(p.url, 32 * 2048), pieces);
    expect(writeError).toBeUndefined();
    expect(answer?.status).toBe(413);
    expect(JSON.parse(answer!.body).error).toContain(String(MAX));
  });

  it("answers 413 to a chunked body that passes maxBodyBytes, written slowly, and the sender reads it", async () => {
    const pieces = [...Array.from({ length: 32 }, () => `800\r\n${"x".repeat(0x800)}\r\n`), "0\r\n\r\n"];
    const { answer, writeError } = await sendSlowlyThenRead(postHead(p.url, "chunked"), pieces);
    expect(writeError).toBeUndefined();
    expect(answer?.status).toBe(413);
  });

  it("refuses a body declared too large before it is sent when the sender asks first (Expect: 100-continue)", async () => {
    const raw = await RawClient.connect(h.client.receiverUrl!);
    await raw.write(postHead(p.url, 10 * MAX, { Expect: "100-continue" }));
    const answer = await raw.response(5000);
    raw.destroy();
    expect(answer?.status).toBe(413);
    expect(raw.data.toString("latin1")).not.toContain("100 Continue");
  });

  it("invites the body of an admitted request that asks first, then answers it", async () => {
    const body = fullBody(p.jobId, "processing");
    const raw = await RawClient.connect(h.client.receiverUrl!);
    await raw.write(postHead(p.url, Buffer.byteLength(body), { Expect: "100-continue", "X-Webhook-Signature": signHmacHex(h.dev.webhookSecret, body) }));
    expect(await raw.continued()).toBe(true);
    await raw.write(body);
    const answer = await raw.response(5000);
    raw.destroy();
    expect(answer?.status).toBe(200);
    await until(() => p.job.status === "processing");
  });
});

describe("receiver: a client that goes away", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  it("logs a request abandoned mid-body at debug, not as an error, and reports no answer for it", async () => {
    h = await harness({ dev: SILENT_DEV });
    const p = await pendingJob(h);
    const deliveries: DeliveryInfo[] = [];
    h.client.on("delivery", (info) => deliveries.push(info));
    const body = fullBody(p.jobId, "completed");
    const quitter = await RawClient.connect(h.client.receiverUrl!);
    await quitter.write(postHead(p.url, Buffer.byteLength(body), { Expect: "100-continue", "X-Webhook-Signature": signHmacHex(h.dev.webhookSecret, body) }));
    // The receiver admitted it and is reading its body when the client goes.
    expect(await quitter.continued()).toBe(true);
    await quitter.write(body.slice(0, 20));
    quitter.destroy();

    // close() waits for the request in flight, so whatever it logs is logged by then.
    await h.client.close();
    expect(h.logs.filter((entry) => entry.level === "error" || entry.level === "warn")).toEqual([]);
    expect(h.logs.some((entry) => entry.level === "debug" && /went away/.test(entry.msg ?? ""))).toBe(true);
    expect(deliveries).toEqual([]);
    expect((await h.stored()).jobs[p.ref]).toMatchObject({ status: "queued" });
  });
});

describe("receiver: limits", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  it("closes connections past receiver.maxConnections as they arrive, and takes new ones once one is freed", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, maxConnections: 2 } } });
    await h.client.start();
    const url = h.client.receiverUrl!;
    /** A kept-alive connection the receiver answered once, so it surely counts. */
    const answered = async () => {
      const raw = await RawClient.connect(url);
      await raw.write("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n");
      return { raw, answer: await raw.response(2000) };
    };
    const first = await answered();
    const second = await answered();
    expect([first.answer?.status, second.answer?.status]).toEqual([404, 404]);

    const third = await RawClient.connect(url).catch(() => undefined);
    if (third) {
      await third.write("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n").catch(() => undefined);
      expect(await third.closedWithin(2000)).toBe(true);
      expect(third.data.length).toBe(0);
    }

    first.raw.destroy();
    // The receiver sees the freed connection soon; until then a new one is still turned away.
    await until(async () => {
      const next = await answered().catch(() => undefined);
      next?.raw.destroy();
      return next?.answer?.status === 404;
    });
    second.raw.destroy();
  });

  it("answers a delivery 503 with Retry-After, before reading its body, when the bodies held would pass receiver.maxBufferedBytes", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, maxBodyBytes: 1024, maxBufferedBytes: 2048 } } });
    const p = await pendingJob(h);
    const body = fullBody(p.jobId, "completed", { padding: "p".repeat(1000 - fullBody(p.jobId, "completed", { padding: "" }).length) });
    expect(Buffer.byteLength(body)).toBe(1000);
    const headers = { Expect: "100-continue", "X-Webhook-Signature": signHmacHex(h.dev.webhookSecret, body) };

    // Two admitted deliveries whose bodies are coming: 2,000 of the 2,048 bytes are spoken for.
    const holders = [await RawClient.connect(h.client.receiverUrl!), await RawClient.connect(h.client.receiverUrl!)];
    for (const holder of holders) {
      await holder.write(postHead(p.url, 1000, headers));
      expect(await holder.continued()).toBe(true);
      await holder.write(body.slice(0, 10));
    }

    const refused = await RawClient.connect(h.client.receiverUrl!);
    await refused.write(postHead(p.url, 1000, headers));
    const answer = await refused.response(2000);
    refused.destroy();
    expect(answer?.status).toBe(503);
    expect(Number(headerOf(answer!.head, "retry-after"))).toBeGreaterThan(0);
    expect(refused.data.toString("latin1")).not.toContain("100 Continue");

    // The held bodies arrive and are stored; their bytes are free again.
    for (const holder of holders) await holder.write(body.slice(10));
    expect((await holders[0]!.response(2000))?.status).toBe(200);
    expect((await holders[1]!.response(2000))?.status).toBe(200);
    for (const holder of holders) holder.destroy();
    expect((await post(p.url, body, signed(h.dev.webhookSecret, body))).status).toBe(200);
    expect((await p.job).text).toBe(TEXT);
  });

  it("answers a chunked delivery 503 with Retry-After once its bytes would pass receiver.maxBufferedBytes", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, maxBodyBytes: 1024, maxBufferedBytes: 1024 } } });
    const p = await pendingJob(h);
    const holder = await RawClient.connect(h.client.receiverUrl!);
    await holder.write(postHead(p.url, 1000, { Expect: "100-continue" }));
    expect(await holder.continued()).toBe(true);

    const chunked = await RawClient.connect(h.client.receiverUrl!);
    await chunked.write(postHead(p.url, "chunked"));
    for (let i = 0; i < 4; i++) await chunked.write(`10\r\n${"c".repeat(16)}\r\n`);
    await chunked.write("0\r\n\r\n");
    const answer = await chunked.response(2000);
    chunked.destroy();
    holder.destroy();
    expect(answer?.status).toBe(503);
    expect(Number(headerOf(answer!.head, "retry-after"))).toBeGreaterThan(0);
  });

  it("refuses a delivery 503 with Retry-After before reading its body while receiver.maxBacklog deliveries wait to be processed", async () => {
    h = await harness({
      dev: SILENT_DEV,
      // The thin delivery's result is not ready at the emulator: its processing waits out a long backoff.
      client: { receiver: { port: 0, maxBacklog: 1 }, retry: { attempts: 3, minDelayMs: 60_000, maxDelayMs: 60_000 } },
    });
    const waiting = await pendingJob(h, "https://audio.example/waiting.wav");
    const refusedJob = await pendingJob(h, "https://audio.example/refused.wav");
    expect((await deliver(h, waiting.url, JSON.stringify({ job_id: waiting.jobId, status: "completed" }))).status).toBe(200);

    const body = fullBody(refusedJob.jobId, "completed");
    const raw = await RawClient.connect(h.client.receiverUrl!);
    await raw.write(postHead(refusedJob.url, Buffer.byteLength(body), { "X-Webhook-Signature": signHmacHex(h.dev.webhookSecret, body) }));
    const answer = await raw.response(2000);
    raw.destroy();
    expect(answer?.status).toBe(503);
    expect(Number(headerOf(answer!.head, "retry-after"))).toBeGreaterThan(0);
    expect(JSON.parse(answer!.body).error).toMatch(/retry later/);
    expect(refusedJob.job.status).toBe("queued");
    expect((await h.stored()).jobs[refusedJob.ref]).toMatchObject({ status: "queued", processed: false });
  });
});

describe("receiver: GET {path}/healthz", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  it("answers 200 while the client runs, and is not a delivery", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, path: "/hooks" } } });
    await h.client.start();
    const deliveries: DeliveryInfo[] = [];
    h.client.on("delivery", (info) => deliveries.push(info));
    const response = await fetch(`${h.client.receiverUrl}/hooks/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(deliveries).toEqual([]);
    // Under the configured path only.
    expect((await fetch(`${h.client.receiverUrl}/webhooks/healthz`)).status).toBe(404);
  });
});

describe("receiver: one status per request on the wire", () => {
  let h: Harness;
  afterEach(async () => h?.cleanup());

  function statusLines(raw: RawClient): string[] {
    return [...raw.data.toString("latin1").matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match[1]!);
  }

  it("sends nothing after a 413 when the request times out while the rest of its body is dropped", async () => {
    h = await harness({ dev: SILENT_DEV, client: { receiver: { port: 0, maxBodyBytes: 1024, headersTimeoutMs: 200, requestTimeoutMs: 400 } } });
    const p = await pendingJob(h);
    const raw = await RawClient.connect(h.client.receiverUrl!);
    await raw.write(postHead(p.url, 100_000));
    await raw.write("x".repeat(2048));
    expect((await raw.response(2000))?.status).toBe(413);
    // The sender stalls: the request timeout ends the connection, without a second status.
    expect(await raw.closedWithin(5000)).toBe(true);
    expect(statusLines(raw)).toEqual(["413"]);
  });

  it("answers a request that said it was the last with its own status, ignoring bytes sent after it", async () => {
    h = await harness({ dev: SILENT_DEV });
    await h.client.start();
    const raw = await RawClient.connect(h.client.receiverUrl!);
    await raw.write("GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nXYZ");
    expect(await raw.closedWithin(2000)).toBe(true);
    expect(statusLines(raw)).toEqual(["404"]);
  });
});
