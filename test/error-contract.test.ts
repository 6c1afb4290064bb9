import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AbortError,
  CaptionError,
  ConfigurationError,
  FetchResultError,
  ProviderPayloadError,
  StoreError,
  SubmitError,
  Transcriber,
  type TranscriberOptions,
  UnknownDeadLetterError,
  UnknownJobError,
  genericProvider,
  isHookscribeError,
  toSrt,
  toVtt,
} from "hookscribe";
import { startDevProvider } from "hookscribe/dev";
import { createTranscribeTool } from "hookscribe/langchain";
import { postgresStore } from "hookscribe/postgres";
import { afterEach, describe, expect, it } from "vitest";
import { createMcpServer } from "../src/mcp/index.js";
import { type Harness, harness, rejection, tempDir } from "./helpers.js";

/**
 * One error contract: every public entry, driven with bad input, throws or rejects with a
 * hookscribe error of the documented class (never a raw ZodError, TypeError or a plain Error),
 * whose message names the cause.
 */

let h: Harness | undefined;
const servers: { close(): void }[] = [];
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  for (const server of servers.splice(0)) server.close();
});

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

function expectHookscribe(error: unknown, type: abstract new (...args: never[]) => Error, message: RegExp): void {
  expect(isHookscribeError(error)).toBe(true);
  expect(error).toBeInstanceOf(type);
  expect((error as Error).name).toBe(type.name);
  expect((error as Error).message).toMatch(message);
}

/** A loopback API that answers every request with `status` and `body`. */
async function fakeApi(status: number, body: string): Promise<string> {
  const server = createServer((_, response) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const provider = () => genericProvider({ baseUrl: "http://127.0.0.1:9", apiKey: "k", webhookSecret: "s", retry: { limit: 0 } });

describe("constructors and option parsers", () => {
  it.each<[string, () => unknown, RegExp]>([
    ["Transcriber without a provider", () => new Transcriber({} as TranscriberOptions), /provider/],
    ["Transcriber with a misspelt option", () => new Transcriber({ provider: provider(), reciever: {} } as unknown as TranscriberOptions), /reciever/],
    ["Transcriber with a bad port", () => new Transcriber({ provider: provider(), receiver: { port: 70_000 } }), /receiver\.port/],
    ["genericProvider without a baseUrl", () => genericProvider({ apiKey: "k", webhookSecret: "s" } as never), /baseUrl/],
    ["genericProvider with an empty apiKey", () => genericProvider({ baseUrl: "http://x", apiKey: "", webhookSecret: "s" }), /apiKey/],
    ["toSrt with bad options", () => toSrt({ text: "", words: [] }, { maxChars: -1 }), /maxChars/],
    ["createTranscribeTool with a bad name", () => createTranscribeTool(new Transcriber({ provider: provider() }), { name: "bad name!" }), /name/],
    ["postgresStore with neither connectionString nor pool", () => postgresStore({}), /connectionString/],
    ["postgresStore with a bad schema name", () => postgresStore({ connectionString: "postgres://db.example/app", schema: "Robert'); DROP" }), /schema/],
    ["createMcpServer with a negative timeout", () => createMcpServer(new Transcriber({ provider: provider() }), { timeoutMs: -1 }), /timeoutMs/],
  ])("%s: ConfigurationError naming the option", (_, run, message) => {
    expectHookscribe(thrown(run), ConfigurationError, message);
  });

  it("startDevProvider with a bad option rejects with a ConfigurationError", async () => {
    expectHookscribe(await rejection(startDevProvider({ port: -1 })), ConfigurationError, /port/);
  });

  it("toVtt of a transcript without word timings: CaptionError", () => {
    expectHookscribe(thrown(() => toVtt({ text: "words", words: [] })), CaptionError, /word timings/);
  });
});

describe("provider calls", () => {
  it("parse() of an unknown payload: ProviderPayloadError naming the field, not the content", () => {
    const body = Buffer.from(JSON.stringify({ job_id: "j", status: "finished", text: "secret words" }));
    const error = thrown(() => provider().parse({ headers: {}, query: new URLSearchParams(), contentType: "application/json", rawBody: body }));
    expectHookscribe(error, ProviderPayloadError, /status/);
    expect((error as Error).message).not.toContain("secret words");
    const notJson = thrown(() => provider().parse({ headers: {}, query: new URLSearchParams(), contentType: "application/json", rawBody: Buffer.from("secret words") }));
    expectHookscribe(notJson, ProviderPayloadError, /not valid JSON \(12 bytes\)/);
    expect((notJson as Error).message).not.toContain("secret words");
  });

  it("fetchResult() of a body that is not a result: ProviderPayloadError", async () => {
    const baseUrl = await fakeApi(200, JSON.stringify({ unexpected: "secret words" }));
    const api = genericProvider({ baseUrl, apiKey: "k", webhookSecret: "s" });
    const error = await rejection(api.fetchResult!("job_1"));
    expectHookscribe(error, ProviderPayloadError, /result of job job_1/);
    expect(error.message).not.toContain("secret words");
  });

  it("fetchResult() answered 404: FetchResultError with the status", async () => {
    const baseUrl = await fakeApi(404, JSON.stringify({ error: "no such job" }));
    const error = await rejection(genericProvider({ baseUrl, apiKey: "k", webhookSecret: "s" }).fetchResult!("job_1"));
    expectHookscribe(error, FetchResultError, /HTTP 404.*no such job/);
    expect((error as FetchResultError).status).toBe(404);
  });

  it("fetchResult() aborted: AbortError", async () => {
    const baseUrl = await fakeApi(200, "{}");
    const error = await rejection(genericProvider({ baseUrl, apiKey: "k", webhookSecret: "s" }).fetchResult!("job_1", { signal: AbortSignal.abort() }));
    expectHookscribe(error, AbortError, /aborted/i);
  });

  it("submit() to nothing: SubmitError without a status", async () => {
    const error = await rejection(provider().submit({ audioUrl: "https://a/b.wav", webhookUrl: "https://c/d", webhookSecret: "s" }, { idempotencyKey: "k" }));
    expectHookscribe(error, SubmitError, /Could not reach generic at http:\/\/127\.0\.0\.1:9/);
    expect((error as SubmitError).status).toBeUndefined();
  });
});

describe("client calls", () => {
  it("transcribe() and job() with a misspelt or bad option: ConfigurationError at once, nothing submitted", async () => {
    h = await harness();
    expectHookscribe(thrown(() => h!.client.transcribe("https://a/b.wav", { langauge: "en" } as never)), ConfigurationError, /langauge.*did you mean "language"/);
    expectHookscribe(thrown(() => h!.client.transcribe("https://a/b.wav", { timeoutMs: -5 })), ConfigurationError, /timeoutMs/);
    expectHookscribe(thrown(() => h!.client.job("job_1", { signal: "stop" } as never)), ConfigurationError, /signal/);
    expect(h.dev.stats.submits).toBe(0);
  });

  it("transcribe() of something that is not an http(s) URL: ConfigurationError at once", async () => {
    h = await harness();
    expectHookscribe(thrown(() => h!.client.transcribe("call.wav")), ConfigurationError, /audioUrl/);
    expectHookscribe(thrown(() => h!.client.transcribe("ftp://example.com/call.wav")), ConfigurationError, /http or https/);
  });

  it("transcribeFile() of a missing file: ConfigurationError", async () => {
    h = await harness();
    expectHookscribe(await rejection(h.client.transcribeFile(join(h.dir, "missing.wav"))), ConfigurationError, /missing\.wav/);
  });

  it("job(), inspect() and replay() of unknown ids: UnknownJobError, UnknownDeadLetterError", async () => {
    h = await harness();
    expectHookscribe(await rejection(h.client.job("job_nope")), UnknownJobError, /job_nope/);
    expectHookscribe(await rejection(h.client.inspect("job_nope")), UnknownJobError, /job_nope/);
    expectHookscribe(await rejection(h.client.replay("dl_nope")), UnknownDeadLetterError, /dl_nope/);
  });

  it("transcribeFile() without a path, jobs() with a misspelt filter: ConfigurationError", async () => {
    h = await harness();
    expectHookscribe(await rejection(h.client.transcribeFile(undefined as never)), ConfigurationError, /path of a local audio file/);
    expectHookscribe(await rejection(h.client.jobs({ statsu: "queued" } as never)), ConfigurationError, /statsu.*did you mean "status"/);
  });

  it("a timeout longer than a timer can wait: ConfigurationError instead of a deadline that fires at once", () => {
    expectHookscribe(thrown(() => new Transcriber({ provider: provider(), timeoutMs: 2 ** 31 })), ConfigurationError, /timeoutMs/);
  });

  it("a custom provider without a usable baseUrl: ConfigurationError at construction", () => {
    const custom = { ...provider(), baseUrl: "not a url" };
    expectHookscribe(thrown(() => new Transcriber({ provider: custom })), ConfigurationError, /provider/);
  });

  it("toSrt() of something that is not a transcript: CaptionError", () => {
    expectHookscribe(thrown(() => toSrt(undefined as never)), CaptionError, /text.*words/);
    expectHookscribe(thrown(() => toSrt({ text: "a", words: "a" } as never)), CaptionError, /text.*words/);
  });

  it("a store path under a file: StoreError on start, not a raw file-system error", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "not-a-folder"), "");
    const client = new Transcriber({ provider: provider(), receiver: { port: 0 }, storePath: join(dir, "not-a-folder", "store.json") });
    expectHookscribe(await rejection(client.start()), StoreError, /not-a-folder/);
    await client.close();
  });

  it("a start that fails (port in use) frees the store for the next one", async () => {
    const dir = await tempDir();
    const storePath = join(dir, "store.json");
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    servers.push(blocker);
    const port = (blocker.address() as AddressInfo).port;
    const first = new Transcriber({ provider: provider(), receiver: { port }, storePath });
    expectHookscribe(await rejection(first.start()), ConfigurationError, /port in use/);
    const second = new Transcriber({ provider: provider(), receiver: { port: 0 }, storePath });
    await second.start();
    expect(second.receiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await second.close();
  });

  it("a damaged store: StoreError on start, and the file is left as it was", async () => {
    const dir = await tempDir();
    const storePath = join(dir, "store.json");
    await writeFile(storePath, "{ not json");
    const client = new Transcriber({ provider: provider(), receiver: { port: 0 }, storePath });
    expectHookscribe(await rejection(client.start()), StoreError, /not valid JSON/);
    expectHookscribe(await rejection(client.transcribe("https://a/b.wav")), StoreError, /not valid JSON/);
    await client.close();
  });
});
