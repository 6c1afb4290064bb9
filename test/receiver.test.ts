import { randomBytes } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { type Socket, connect } from "node:net";
import { type Transcript, type TranscriptionJob, signHmacHex, signStandardWebhook } from "hookscribe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Harness, harness, until } from "./helpers.js";

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

interface DiskState {
  /** Highest journal sequence number on disk (document or journal): grows with every write. */
  head: number;
  jobs: Record<string, { status: string; processed: boolean; jobId?: string; updatedAt: number }>;
  inbox: Record<string, unknown>;
}

/**
 * What is on disk right now: the document with the journal replayed over it. Segments are read
 * before the document, so a compaction in between cannot hide an entry.
 */
async function diskState(storePath: string): Promise<DiskState> {
  const dir = `${storePath}.journal`;
  const segments: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    segments.push(await readFile(`${dir}/${name}`, "utf8").catch(() => ""));
  }
  const doc = JSON.parse(await readFile(storePath, "utf8"));
  let head = doc.journalSeq as number;
  for (const text of segments) {
    for (const line of text.split("\n").filter(Boolean)) {
      const entry = JSON.parse(line) as { seq: number; changes: [string, "jobs" | "inbox" | "deadLetters", string, unknown?][] };
      if (entry.seq <= doc.journalSeq) continue;
      head = Math.max(head, entry.seq);
      for (const [op, collection, key, value] of entry.changes) {
        if (op === "put") doc[collection][key] = value;
        else delete doc[collection][key];
      }
    }
  }
  return { head, jobs: doc.jobs, inbox: doc.inbox };
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

  private parsed(): { status: number; head: string; body: string } | undefined {
    const text = this.data.toString("latin1");
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
    const doc = JSON.parse(await readFile(h.storePath, "utf8"));
    expect(Object.values(doc.jobs)).toMatchObject([{ ref: p.ref, jobId: p.jobId, status: "completed", processed: true }]);
    expect(doc.inbox).toEqual({});
    expect(await readdir(`${h.storePath}.journal`)).toEqual([]);
    const stored = JSON.parse(await readFile(`${h.storePath}.transcripts/${p.ref}.json`, "utf8"));
    expect(stored.text).toBe(TEXT);
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
      { name: "webhook path with a segment missing", expected: 404, send: () => post(`${base}/webhooks/generic/${p.ref}`, completed, signed(secret, completed)) },
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
    ["webhook path with a segment missing", 404],
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

  it("none of them changes the store on disk, and the next valid delivery is answered 200", async () => {
    const before = await diskState(h.storePath);
    expect(before.jobs[p.ref]).toMatchObject({ jobId: p.jobId, status: "queued", processed: false });

    const requests = badRequests();
    expect(requests).toHaveLength(18);
    for (const request of requests) {
      const { status } = await request.send();
      expect(status, request.name).toBe(request.expected);
    }
    // Let anything a bad request might have queued reach the journal.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const after = await diskState(h.storePath);
    expect(after.head).toBe(before.head);
    expect(after.jobs).toEqual(before.jobs);
    expect(after.inbox).toEqual({});
    expect(p.job.status).toBe("queued");
    expect(p.statuses).toEqual(["queued"]);

    const ok = await deliver(h, p.url, fullBody(p.jobId, "completed"));
    expect(ok.status).toBe(200);
    expect((await p.job).text).toBe(TEXT);

    await h.client.close();
    const doc = JSON.parse(await readFile(h.storePath, "utf8"));
    expect(Object.keys(doc.jobs)).toEqual([p.ref]);
    expect(doc.jobs[p.ref]).toMatchObject({ status: "completed", processed: true });
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

    const doc = JSON.parse(await readFile(h.storePath, "utf8"));
    expect(Object.values(doc.jobs)).toMatchObject([{ jobId: p.jobId, status: "completed", processed: true }]);
    expect(doc.inbox).toEqual({});
    expect(doc.deadLetters).toEqual({});
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

    const state = await diskState(h.storePath);
    expect(state.jobs[p.ref]).toMatchObject({ status: "completed" });
    expect(p.statuses).toEqual(["queued", "completed"]);

    await h.client.close();
    const doc = JSON.parse(await readFile(h.storePath, "utf8"));
    expect(doc.jobs[p.ref]).toMatchObject({ status: "completed", processed: true });
    expect(doc.jobs[p.ref].error).toBeUndefined();
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
    expect((await diskState(h.storePath)).jobs[p.ref]).toMatchObject({ status: "queued" });

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

    const doc = JSON.parse(await readFile(h.storePath, "utf8"));
    expect(doc.jobs[a.ref]).toMatchObject({ jobId: a.jobId, status: "completed", processed: true });
    expect(doc.jobs[b.ref]).toMatchObject({ jobId: b.jobId, status: "queued", processed: false });
    expect(doc.inbox).toEqual({});
    expect(await readdir(`${h.storePath}.journal`)).toEqual([]);
    expect(JSON.parse(await readFile(`${h.storePath}.transcripts/${a.ref}.json`, "utf8")).text).toBe(TEXT);
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
