import { readFile, readdir } from "node:fs/promises";
import http from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import {
  type Provider,
  ProviderPayloadError,
  type WebhookRequest,
  assemblyAIProvider,
  deepgramProvider,
  genericProvider,
  gladiaProvider,
  revAIProvider,
  signHmacHex,
  speechmaticsProvider,
} from "hookscribe";
import type { DevProvider } from "hookscribe/dev";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerEventSchema } from "../src/domain/provider-event.js";
import { type Harness, fastProvider, harness, until } from "./helpers.js";

/**
 * Property-based fuzzing of what strangers can send. Through the real receiver (the reference
 * protocol, AssemblyAI's and Speechmatics' adapters, each with a finished job in a real store):
 * random and mutated methods, paths, query strings, headers and bodies, some carrying the job's
 * real credentials, and raw bytes on a socket, never get a 5xx and never change what is stored.
 * Directly: every provider's `parse` given random and mutated payloads returns a valid event, or
 * `null`, or throws a `ProviderPayloadError` that does not echo the payload's values.
 * fast-check prints the seed and the smallest failing input when a property fails.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Written into every string a mutation puts in a payload: an error message that echoes a value shows it. */
const CANARY = "CANARY7f3a";
const canaryString = fc.string({ maxLength: 24 }).map((text) => `${CANARY}${text}`);

const replacement: fc.Arbitrary<Json> = fc.oneof(
  canaryString,
  fc.string({ maxLength: 4000 }).map((text) => `${CANARY}${text}`),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom<Json>(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}, ""),
  fc.array(canaryString, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), canaryString, { maxKeys: 3 }),
);

interface Mutation {
  /** Which node of the document, modulo their number. */
  target: number;
  op: "replace" | "delete" | "insert" | "duplicate";
  value: Json;
  key: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  target: fc.nat(),
  op: fc.constantFrom("replace", "delete", "insert", "duplicate"),
  value: replacement,
  key: fc.string({ maxLength: 8 }),
});

type Path = (string | number)[];

/** Every node's path in a JSON document, the root first. */
function nodePaths(value: Json, at: Path = []): Path[] {
  const children: Path[] =
    Array.isArray(value)
      ? value.flatMap((child, index) => nodePaths(child, [...at, index]))
      : value !== null && typeof value === "object"
        ? Object.entries(value).flatMap(([key, child]) => nodePaths(child, [...at, key]))
        : [];
  return [at, ...children];
}

function nodeAt(document: Json, path: Path): Json {
  return path.reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, document);
}

/** `seed` with each mutation applied in turn, at the node it picks. */
function mutate(seed: Json, mutations: Mutation[]): Json {
  let document = structuredClone(seed);
  for (const { target, op, value: given, key } of mutations) {
    // A copy: fast-check may hand the same object to two mutations, which would make a cycle.
    const value = structuredClone(given);
    const paths = nodePaths(document);
    const path = paths[target % paths.length]!;
    const node = nodeAt(document, path);
    if (op === "insert" && Array.isArray(node)) node.push(value);
    else if (op === "insert" && node !== null && typeof node === "object") (node as Record<string, Json>)[key] = value;
    else if (op === "duplicate" && Array.isArray(node) && node.length > 0) node.push(structuredClone(node[target % node.length]!));
    else if (path.length === 0) document = op === "delete" ? null : value;
    else {
      const parent = nodeAt(document, path.slice(0, -1)) as Record<string | number, Json> | Json[];
      const last = path.at(-1)!;
      if (op === "delete" && Array.isArray(parent)) parent.splice(last as number, 1);
      else if (op === "delete") delete (parent as Record<string, Json>)[last as string];
      else (parent as Record<string | number, Json>)[last] = value;
    }
  }
  return document;
}

/** Bodies: mostly mutations of real payloads, then arbitrary JSON, text, bytes, flipped bytes and truncations. */
function bodies(seeds: Json[]): fc.Arbitrary<Buffer> {
  const seed = fc.constantFrom(...seeds);
  const serialised = (value: Json) => Buffer.from(JSON.stringify(value));
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(seed, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([value, mutations]) => serialised(mutate(value, mutations))) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => serialised(value as Json)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
    {
      weight: 1,
      arbitrary: fc.tuple(seed, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([value, at, byte]) => {
        const bytes = serialised(value);
        bytes[at % bytes.length] = byte;
        return bytes;
      }),
    },
    { weight: 1, arbitrary: fc.tuple(seed, fc.nat()).map(([value, cut]) => serialised(value).subarray(0, cut % (JSON.stringify(value).length + 1))) },
  );
}

function fixture(provider: string, name: string): Promise<Json> {
  return readFile(new URL(`./fixtures/providers/${provider}/${name}.json`, import.meta.url), "utf8").then((text) => JSON.parse(text) as Json);
}

const URL_CHARS = [..."abcdefghijkXYZ0189-_.~%/?#@:!$&'()*+,;="];

/** A request path with one character replaced, removed or added, or a segment added or dropped. */
function mutatedPath(path: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat(), fc.constantFrom("replace", "remove", "add", "extra segment", "drop segment", "double slash"), fc.constantFrom(...URL_CHARS))
    .map(([at, op, char]) => {
      const i = 1 + (at % (path.length - 1));
      switch (op) {
        case "replace":
          return path.slice(0, i) + char + path.slice(i + 1);
        case "remove":
          return path.slice(0, i) + path.slice(i + 1);
        case "add":
          return path.slice(0, i) + char + path.slice(i);
        case "extra segment":
          return `${path}/${char}`;
        case "drop segment":
          return path.slice(0, path.lastIndexOf("/")) || "/";
        default:
          return path.replace("/", "//");
      }
    });
}

const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,12}$/);
/** Printable ASCII: what a header value can carry. */
const headerValue = fc.string({ maxLength: 60 });

interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  auth: "valid" | "missing" | "mangled";
  extra: Record<string, string>;
  body: Buffer;
}

/** The headers that authenticate `body` (`valid`), none (`missing`), or almost the right ones (`mangled`). */
type AuthHeaders = (body: Buffer, auth: FuzzRequest["auth"]) => Record<string, string>;

/** One HTTP request on its own connection; resolves with the status. */
function send(base: string, request: FuzzRequest, authHeaders: AuthHeaders): Promise<number> {
  const target = new URL(base);
  // Framed always: Node's client sends the body of a GET without a length, which no server can parse.
  const headers: Record<string, string> = { ...request.extra, ...authHeaders(request.body, request.auth), "content-length": String(request.body.length) };
  if (request.contentType !== undefined) headers["content-type"] = request.contentType;
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.query ? `${request.path}?${request.query}` : request.path, headers, agent: false },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

/** Status codes of every response in what the server wrote back. */
function statusesIn(data: string): number[] {
  return [...data.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}

/** Writes `bytes` on a fresh connection, half-closes it and collects what comes back until the server closes. */
function sendRaw(base: string, bytes: Buffer): Promise<string> {
  const target = new URL(base);
  return new Promise((resolve) => {
    let data = "";
    const socket = connect({ host: target.hostname, port: Number(target.port) }, () => socket.end(bytes));
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(data));
    // Bounds a run whose connection the server keeps open; the property does not depend on it.
    socket.setTimeout(2000, () => socket.destroy());
  });
}

/** Highest journal sequence number on disk, document and journal: any durable write raises it. */
async function storeHead(storePath: string): Promise<number> {
  const dir = `${storePath}.journal`;
  let head = 0;
  for (const name of await readdir(dir).catch(() => [])) {
    const text = await readFile(`${dir}/${name}`, "utf8").catch(() => "");
    for (const line of text.split("\n").filter(Boolean)) head = Math.max(head, (JSON.parse(line) as { seq: number }).seq);
  }
  const document = JSON.parse(await readFile(storePath, "utf8")) as { journalSeq: number };
  return Math.max(head, document.journalSeq);
}

/** A provider behind the real receiver, with one job it finished, and what authenticates its webhooks. */
interface Target {
  h: Harness;
  jobId: string;
  path: string;
  /** The query string its real webhooks carry. */
  query: string;
  authHeaders: AuthHeaders;
  seeds: Json[];
  /** A query string arbitrary, for providers that read it. */
  queries: fc.Arbitrary<string>;
}

/** The adapter, keeping each job's webhook secret, so the fuzzer can send what the provider would. */
function recordingSecrets(adapter: (dev: DevProvider) => Provider, secrets: string[]): (dev: DevProvider) => Provider {
  return (dev) => {
    const real = adapter(dev);
    return {
      ...real,
      submit(request, context) {
        secrets.push(request.webhookSecret);
        return real.submit(request, context);
      },
    };
  };
}

function mangled(secret: string): string {
  return `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
}

/** Starts the emulator in `dialect` and a client, lets one job finish and be processed. */
async function finishedJob(dialect: "generic" | "assemblyai" | "speechmatics", provider?: (dev: DevProvider) => Provider): Promise<{ h: Harness; jobId: string; path: string }> {
  const h = await harness({ dev: { dialect }, provider });
  const job = h.client.transcribe("https://audio.example/fuzz.wav");
  const jobId = await job.submitted;
  await job;
  await until(async () => (await h.client.inspect(jobId)).processed);
  return { h, jobId, path: new URL(h.dev.job(jobId)!.webhookUrl!).pathname };
}

async function genericTarget(): Promise<Target> {
  const { h, jobId, path } = await finishedJob("generic", fastProvider);
  const words = [{ text: "hello", start: 0, end: 0.4, confidence: 0.9 }];
  return {
    h,
    jobId,
    path,
    query: "",
    authHeaders: (body, auth): Record<string, string> =>
      auth === "missing" ? {} : { "x-webhook-signature": auth === "valid" ? signHmacHex(h.dev.webhookSecret, body) : signHmacHex(mangled(h.dev.webhookSecret), body) },
    seeds: [
      { job_id: jobId, status: "completed", text: "hello", words, language: "en", duration: 1 },
      { job_id: jobId, status: "completed" },
      { job_id: jobId, status: "processing" },
      { job_id: jobId, status: "error", error: "failed" },
    ],
    queries: fc.oneof(fc.constant(""), fc.webQueryParameters()),
  };
}

async function assemblyAITarget(): Promise<Target> {
  const secrets: string[] = [];
  const adapter = (dev: DevProvider) => assemblyAIProvider({ apiKey: dev.apiKey, baseUrl: dev.url, retry: { limit: 2, minDelayMs: 5, maxDelayMs: 20 } });
  const { h, jobId, path } = await finishedJob("assemblyai", recordingSecrets(adapter, secrets));
  const secret = secrets[0]!;
  return {
    h,
    jobId,
    path,
    query: "",
    authHeaders: (_, auth): Record<string, string> => (auth === "missing" ? {} : { "x-hookscribe-secret": auth === "valid" ? secret : mangled(secret) }),
    seeds: [
      { transcript_id: jobId, status: "completed" },
      { transcript_id: jobId, status: "error" },
      await fixture("assemblyai", "webhook-redacted-audio"),
      await fixture("assemblyai", "webhook-transcript-ready"),
    ],
    queries: fc.oneof(fc.constant(""), fc.webQueryParameters()),
  };
}

async function speechmaticsTarget(): Promise<Target> {
  const secrets: string[] = [];
  const adapter = (dev: DevProvider) => speechmaticsProvider({ apiKey: dev.apiKey, baseUrl: dev.url, retry: { limit: 2, minDelayMs: 5, maxDelayMs: 20 } });
  const { h, jobId, path } = await finishedJob("speechmatics", recordingSecrets(adapter, secrets));
  const secret = secrets[0]!;
  const transcript = (await fixture("speechmatics", "api-reference-transcript-example")) as { job: { id: string } };
  transcript.job.id = jobId;
  const query = new URLSearchParams({ id: jobId, status: "success" }).toString();
  return {
    h,
    jobId,
    path,
    query,
    authHeaders: (_, auth): Record<string, string> => (auth === "missing" ? {} : { authorization: `Bearer ${auth === "valid" ? secret : mangled(secret)}` }),
    seeds: [transcript as unknown as Json, {}],
    queries: fc.oneof(
      { weight: 3, arbitrary: fc.constant(query) },
      {
        weight: 2,
        arbitrary: fc
          .record(
            {
              id: fc.oneof(fc.constant(jobId), canaryString),
              status: fc.oneof(fc.constantFrom("success", "error", "fetch_error", "trim_error"), canaryString),
            },
            { requiredKeys: [] },
          )
          .map((fields) => new URLSearchParams(fields).toString()),
      },
      { weight: 1, arbitrary: fc.webQueryParameters() },
    ),
  };
}

function requests(target: Target): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    method: fc.oneof({ weight: 6, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") }),
    path: fc.oneof(
      { weight: 8, arbitrary: fc.constant(target.path) },
      { weight: 2, arbitrary: mutatedPath(target.path) },
      { weight: 1, arbitrary: fc.webPath() },
      { weight: 1, arbitrary: fc.constantFrom("/", "/webhooks", "/webhooks/", "/webhooks/healthz", "/files/", "/files/x/y.wav", "*") },
    ),
    query: fc.oneof({ weight: 3, arbitrary: fc.constant(target.query) }, { weight: 2, arbitrary: target.queries }),
    contentType: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/cloudevents+json") },
      { weight: 1, arbitrary: fc.constantFrom(undefined, "", "text/plain", "multipart/form-data; boundary=x") },
      { weight: 1, arbitrary: headerValue },
    ),
    auth: fc.constantFrom("valid", "valid", "missing", "mangled"),
    extra: fc.dictionary(headerName, headerValue, { maxKeys: 3 }),
    body: bodies(target.seeds),
  });
}

/** Raw request bytes: random bytes, and a real request with bytes flipped, cut short or a mangled request line. */
function rawRequests(target: Target): fc.Arbitrary<Buffer> {
  const body = JSON.stringify(target.seeds[0]);
  const real = Buffer.from(
    `POST ${target.path}${target.query ? `?${target.query}` : ""} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `${Object.entries(target.authHeaders(Buffer.from(body), "valid")).map(([name, value]) => `${name}: ${value}\r\n`).join("")}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
      const bytes = Buffer.from(real);
      for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
      return bytes;
    }),
    fc.nat().map((cut) => real.subarray(0, cut % real.length)),
    fc
      .tuple(fc.constantFrom("GET", "POST", "PUT", "BREW", "G T", ""), fc.oneof(fc.constant(target.path), fc.string({ maxLength: 40 })), fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "", "FOO"))
      .map(([method, path, version]) => Buffer.from(`${method} ${path} ${version}\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`)),
  );
}

/** What a stranger could change: the durable journal's head, the job as the client reads it, the dead letters. */
async function storedState(target: Target): Promise<unknown> {
  const { h, jobId } = target;
  return { head: await storeHead(h.storePath), job: await h.client.inspect(jobId), deadLetters: await h.client.deadLetters() };
}

describe.each([
  ["the reference protocol (genericProvider)", genericTarget],
  ["assemblyAIProvider", assemblyAITarget],
  ["speechmaticsProvider (reads the query string)", speechmaticsTarget],
])("fuzz: the receiver with %s", (_, start) => {
  let target: Target;
  let before: unknown;
  beforeAll(async () => {
    target = await start();
    before = await storedState(target);
  });
  afterAll(async () => target?.h.cleanup());

  it("answers random and mutated requests below 500 and changes nothing stored", async () => {
    const base = target.h.client.receiverUrl!;
    await fc.assert(
      fc.asyncProperty(requests(target), async (request) => {
        const status = await send(base, request, target.authHeaders);
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
        expect(await storedState(target)).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it("answers raw bytes on a socket below 500, or closes, and keeps serving the real webhook", async () => {
    const base = target.h.client.receiverUrl!;
    await fc.assert(
      fc.asyncProperty(rawRequests(target), async (bytes) => {
        for (const status of statusesIn(await sendRaw(base, bytes))) expect(status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    expect(await storedState(target)).toEqual(before);
    const body = Buffer.from(JSON.stringify(target.seeds[0]));
    const repeat = { method: "POST", path: target.path, query: target.query, contentType: "application/json", auth: "valid" as const, extra: {}, body };
    expect(await send(base, repeat, target.authHeaders)).toBe(200);
    expect(await storedState(target)).toEqual(before);
  });
});

/** Every provider's adapter, built as an application would; `parse` needs no network. */
const ADAPTERS: [string, () => Provider, () => Promise<Json[]>][] = [
  [
    "genericProvider",
    () => genericProvider({ baseUrl: "http://127.0.0.1:9", apiKey: "k", webhookSecret: "s" }),
    async (): Promise<Json[]> => [
      { job_id: "job_1", status: "completed", text: "a b", words: [{ text: "a", start: 0, end: 0.1, confidence: 1 }], language: "en", duration: 1 },
      { job_id: "job_1", status: "error", error: "failed" },
    ],
  ],
  [
    "assemblyAIProvider",
    () => assemblyAIProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:9" }),
    async () => [await fixture("assemblyai", "webhook-transcript-ready"), await fixture("assemblyai", "webhook-redacted-audio")],
  ],
  [
    "deepgramProvider",
    () => deepgramProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:9" }),
    async () => [await fixture("deepgram", "spacewalk"), await fixture("deepgram", "diarization"), await fixture("deepgram", "failure")],
  ],
  [
    "revAIProvider",
    () => revAIProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:9" }),
    async () => [await fixture("revai", "webhook-transcribed"), await fixture("revai", "webhook-failed")],
  ],
  [
    "speechmaticsProvider",
    () => speechmaticsProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:9" }),
    async () => [await fixture("speechmatics", "api-reference-transcript-example"), await fixture("speechmatics", "language-identification-transcript")],
  ],
  [
    "gladiaProvider",
    () => gladiaProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:9" }),
    async () => [await fixture("gladia", "callback-success"), await fixture("gladia", "callback-error")],
  ],
];

describe.each(ADAPTERS)("fuzz: %s parse()", (_, build, loadSeeds) => {
  it("returns a valid event or null, or throws a ProviderPayloadError that names no value it was given", async () => {
    const provider = build();
    const seeds = await loadSeeds();
    const speechmaticsJobId = (seeds[0] as { job?: { id?: string } }).job?.id ?? "a1b2c3d4e5";
    const queries = fc.oneof(
      fc.constant(new URLSearchParams({ id: speechmaticsJobId, status: "success" })),
      fc.record({ id: fc.oneof(fc.constant(speechmaticsJobId), canaryString), status: fc.oneof(fc.constantFrom("success", "error"), canaryString) }, { requiredKeys: [] }).map((fields) => new URLSearchParams(fields)),
      fc.webQueryParameters().map((query) => new URLSearchParams(query)),
    );
    fc.assert(
      fc.property(bodies(seeds), queries, fc.constantFrom("application/json", undefined, "text/plain"), (rawBody, query, contentType) => {
        const request: WebhookRequest = { headers: { "content-type": contentType }, query, contentType, rawBody };
        let event: ReturnType<Provider["parse"]>;
        try {
          event = provider.parse(request);
        } catch (error) {
          expect(error).toBeInstanceOf(ProviderPayloadError);
          expect((error as Error).message).not.toContain(CANARY);
          return;
        }
        if (event !== null) expect(providerEventSchema.safeParse(event).success).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
