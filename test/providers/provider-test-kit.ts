import { readFile } from "node:fs/promises";
import { type IncomingHttpHeaders, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Provider,
  type ProviderRetryOptions,
  type TranscribeOptions,
  type Transcriber,
  type TranscriberOptions,
  type Transcript,
  TranscriptionError,
  type WebhookRequest,
} from "hookscribe";
import type { DevProvider, DevProviderOptions } from "hookscribe/dev";
import { expect } from "vitest";
import { jsonOrUndefined } from "../../src/providers/parse-payload.js";
import { type Harness, harness, rejection } from "../helpers.js";

/*
 * What the tests of the provider adapters and their dialects share: adapters pointed at the
 * emulator, harnesses per dialect, webhooks sent by hand, the published examples, and loopback
 * servers standing in for a provider's API or a user's webhook endpoint.
 */

/** Retries that take milliseconds. */
const FAST_RETRY = { limit: 2, minDelayMs: 5, maxDelayMs: 20 };

type AdapterOptions = { apiKey: string; baseUrl?: string; retry?: ProviderRetryOptions };

/** `factory`'s adapter pointed at the emulator, with `FAST_RETRY`; `overrides` win. */
export function fastAdapter<O extends AdapterOptions>(factory: (options: O) => Provider): (dev: DevProvider, overrides?: Partial<O>) => Provider {
  return (dev, overrides = {}) => factory({ apiKey: dev.apiKey, baseUrl: dev.url, retry: FAST_RETRY, ...overrides } as O);
}

/**
 * The harness for one dialect: the emulator speaking it (plus `dev`), a client of
 * `provider(dev)` (by default `adapter`) with `client`'s options, and a store in a temp dir.
 */
export function dialectHarness(dialect: NonNullable<DevProviderOptions["dialect"]>, adapter: (dev: DevProvider) => Provider) {
  return (dev: DevProviderOptions = {}, provider: (dev: DevProvider) => Provider = adapter, client: Partial<TranscriberOptions> = {}): Promise<Harness> =>
    harness({ dev: { dialect, ...dev }, provider, client });
}

/** `provider`, remembering each job's webhook secret in `secrets` so a test can send what the provider would. */
export function recordingSecrets(provider: Provider, secrets: string[]): Provider {
  return {
    ...provider,
    submit(request, context) {
      secrets.push(request.webhookSecret);
      return provider.submit(request, context);
    },
  };
}

/** POSTs `body` as JSON to a webhook URL, as a provider would. */
export function postWebhook(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** Transcribes `url`, noting each status `onStatus` reports: the job id the submit answered, the transcript and the statuses. */
export async function transcribeNoting(
  client: Transcriber,
  url: string,
  options: TranscribeOptions = {},
): Promise<{ jobId: string; transcript: Transcript; statuses: string[] }> {
  const statuses: string[] = [];
  const job = client.transcribe(url, { ...options, onStatus: (status) => statuses.push(status) });
  const jobId = await job.submitted;
  return { jobId, transcript: await job, statuses };
}

/** Transcribes `url`, which must fail with a `TranscriptionError` naming the job; resolves with both. */
export async function transcriptionFailure(client: Transcriber, url: string): Promise<{ jobId: string; error: TranscriptionError }> {
  const job = client.transcribe(url);
  const error = await rejection(job);
  expect(error).toBeInstanceOf(TranscriptionError);
  expect((error as TranscriptionError).jobId).toBe(job.jobId);
  return { jobId: job.jobId!, error: error as TranscriptionError };
}

/** Every transcript `client` announces, in order. */
export { collect } from "../helpers.js";

/** A webhook as the receiver hands it to an adapter. `body`: bytes, text, or a value sent as JSON. */
export function webhookRequest(
  body: unknown,
  options: { headers?: Record<string, string>; query?: string; contentType?: string | undefined } = {},
): WebhookRequest {
  const rawBody = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  // An explicit `contentType: undefined` is a webhook without one.
  const contentType = "contentType" in options ? options.contentType : "application/json";
  return { headers: options.headers ?? {}, query: new URLSearchParams(options.query), contentType, rawBody };
}

/** The published examples of one provider, in test/fixtures/providers/<provider>/. */
export function fixtures(provider: string) {
  const url = (name: string) => new URL(`../fixtures/providers/${provider}/${name}`, import.meta.url);
  return {
    bytes: (name: string): Promise<Buffer> => readFile(url(name)),
    text: (name: string): Promise<string> => readFile(url(name), "utf8"),
    json: async (name: string): Promise<any> => JSON.parse(await readFile(url(name), "utf8")),
  };
}

/** What the function threw; fails the test if it returned. */
export function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

/** One request a `testServer` received. */
export interface ReceivedRequest {
  method: string;
  /** The path and query string. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body as sent. */
  text: string;
  /** The body parsed as JSON (`any`: a test reads what it sent field by field); `undefined` when it is not JSON. */
  body: any;
}

/** An answer of a `testServer`; a body that is not a string is sent as JSON. */
export interface TestAnswer {
  status: number;
  body?: unknown;
  /** @default "application/json" when there is a body */
  contentType?: string;
}

export interface TestServer {
  /** Its origin, plus the path given to `webhookEndpoint`. */
  url: string;
  /** Every request, in the order they came. */
  received: ReceivedRequest[];
  /** The first request, once it came. */
  first: Promise<ReceivedRequest>;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server standing in for a provider's API or a user's endpoint: it records each
 * request, whole, then answers it with `answer(request, attempt)` (`attempt` counts from 1).
 */
export async function testServer(answer: (request: ReceivedRequest, attempt: number) => TestAnswer | Promise<TestAnswer>, path = ""): Promise<TestServer> {
  const received: ReceivedRequest[] = [];
  let arrived: (request: ReceivedRequest) => void = () => undefined;
  const first = new Promise<ReceivedRequest>((resolve) => (arrived = resolve));
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const request: ReceivedRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, text: raw.toString("utf8"), body: jsonOrUndefined(raw) };
    received.push(request);
    arrived(request);
    const { status, body, contentType = "application/json" } = await answer(request, received.length);
    if (body === undefined) return void res.writeHead(status).end();
    res.writeHead(status, { "content-type": contentType }).end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    received,
    first,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A plain webhook endpoint at `path`, as a user of a provider's SDK would write one: it answers each attempt `status(attempt)`. */
export function webhookEndpoint(path = "/hook", status: (attempt: number) => number = () => 200): Promise<TestServer> {
  return testServer((_request, attempt) => ({ status: status(attempt) }), path);
}
