import { inspect } from "node:util";
import {
  ConfigurationError,
  FetchResultError,
  ProviderPayloadError,
  SubmitError,
  TranscriptionTimeoutError,
  gladiaProvider,
} from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, freePort, rejection, until } from "../helpers.js";
import { type TestAnswer, type TestServer, collect, dialectHarness, fastAdapter, fixtures, postWebhook, testServer, thrown, transcribeNoting, transcriptionFailure, webhookRequest } from "./provider-test-kit.js";

/*
 * gladiaProvider end to end against the emulator's `gladia` dialect (real receiver, real HTTP,
 * store in a temp dir), then its wire mapping against Gladia's published examples.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const adapter = fastAdapter(gladiaProvider);
const gladiaHarness = dialectHarness("gladia", adapter);

/** POSTs a JSON body to a webhook URL as Gladia would; resolves with the receiver's status code. */
async function post(url: string, body: unknown): Promise<number> {
  const response = await postWebhook(url, body);
  await response.arrayBuffer();
  return response.status;
}

function callbackFor(jobId: string, text: string) {
  return {
    id: jobId,
    event: "transcription.success",
    payload: {
      metadata: { audio_duration: 1 },
      transcription: { full_transcript: text, languages: ["en"], utterances: [] },
    },
  };
}

describe("gladiaProvider against the gladia dialect", () => {
  it("resolves from the full callback: text, words in seconds, no status fetch", async () => {
    h = await gladiaHarness();
    const { jobId, transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/call.wav");

    expect(jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(transcript).toMatchObject({ jobId, provider: "gladia", status: "completed", text: SAMPLE_TEXT, durationSec: 3.6 });
    expect(transcript.words.map((w) => w.text)).toEqual(SAMPLE_TEXT.split(" "));
    // fixedTextEngine spaces words 0.4 s apart: the times arrive in seconds, unchanged.
    expect(transcript.words[1]).toEqual({ text: "quick", start: 0.4, end: 0.8, confidence: 1 });
    expect(transcript.raw).toMatchObject({ id: jobId, event: "transcription.success" });
    // Gladia announces no "processing": the submit's answer, then the callback.
    expect(statuses).toEqual(["queued", "completed"]);
    expect(h.dev.stats).toMatchObject({ submits: 1, statusFetches: 0, webhooksSent: 1 });
  });

  it("maps language to language_config and metadata to custom_metadata, echoed back in the callback", async () => {
    h = await gladiaHarness();
    const transcript = await h.client.transcribe("https://audio.example/fr.wav", { language: "fr", metadata: { customer: "c-42" } });
    // The emulator forces the one language it was given, as Gladia does.
    expect(transcript.language).toBe("fr");
    expect(transcript.raw).toMatchObject({ custom_metadata: { customer: "c-42" } });
  });

  it("takes each word's speaker from its utterance", async () => {
    const words = [
      { text: "hello", start: 0, end: 0.5, speaker: "A" },
      { text: "there", start: 0.5, end: 1, speaker: "A" },
      { text: "hi", start: 1.2, end: 1.5, speaker: "B" },
    ];
    h = await gladiaHarness({ engine: async () => ({ text: "hello there hi", words, durationSec: 2 }) });
    const transcript = await h.client.transcribe("https://audio.example/two-voices.wav");
    expect(transcript.words.map((w) => [w.text, w.speaker])).toEqual([
      ["hello", "0"],
      ["there", "0"],
      ["hi", "1"],
    ]);
  });

  it("rejects with a TranscriptionError carrying Gladia's message from the error callback, without a fetch", async () => {
    h = await gladiaHarness({ faults: { errorResult: true } });
    const { error } = await transcriptionFailure(h.client, "https://audio.example/broken.wav");
    expect(error.message).toMatch(/Simulated failure.*errorResult.*\(Gladia error code 500\)/);
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("answers a forged callback 401 (wrong or no token) and stores nothing from it", async () => {
    h = await gladiaHarness({ processingDelayMs: 1000 });
    const job = h.client.transcribe("https://audio.example/forged.wav");
    const jobId = await job.submitted;
    const webhookUrl = h.dev.job(jobId)!.webhookUrl!;
    const token = webhookUrl.split("/").pop()!;
    const forged = callbackFor(jobId, "forged words");

    expect(await post(webhookUrl.replace(token, "A".repeat(token.length)), forged)).toBe(401);
    expect(await post(webhookUrl.slice(0, -token.length - 1), forged)).toBe(401);
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "queued", transcript: undefined });

    expect((await job).text).toBe(SAMPLE_TEXT);
  });

  it("announces one transcript however often the callback is delivered", async () => {
    h = await gladiaHarness({ faults: { duplicateDeliveries: 2 } });
    const events = collect(h.client);
    const transcript = await h.client.transcribe("https://audio.example/dup.wav");
    await until(() => h!.dev.stats.webhooksDelivered === 3);
    expect(events.map((t) => t.jobId)).toEqual([transcript.jobId]);
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("keeps the first terminal answer: no stale processing is sent, a late conflicting callback changes nothing", async () => {
    h = await gladiaHarness();
    const events = collect(h.client);
    const transcript = await h.client.transcribe("https://audio.example/ooo.wav");
    const webhookUrl = h.dev.job(transcript.jobId)!.webhookUrl!;
    expect(h.dev.stats.webhooksSent).toBe(1);

    const late = { id: transcript.jobId, event: "transcription.error", error: { code: 500, message: "late failure" } };
    expect(await post(webhookUrl, late)).toBe(200);
    expect(await h.client.inspect(transcript.jobId)).toMatchObject({ status: "completed", transcript: { text: SAMPLE_TEXT } });
    expect(events).toHaveLength(1);
  });

  it("resolves when the callback arrives before the submit's answer", async () => {
    h = await gladiaHarness({ faults: { webhookBeforeSubmitResponse: true } });
    const { transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/early.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(statuses).toEqual(["completed"]);
  });

  it("a callback sent while no process listened is retried and resolves the restarted client's job(id)", async () => {
    const port = await freePort();
    h = await gladiaHarness({ processingDelayMs: 500, retryDelaysMs: [50, 100, 200, 400, 800] }, adapter, { receiver: { port } });
    const a = h.client;
    const jobA = a.transcribe("https://audio.example/restart.wav");
    const jobId = await jobA.submitted;
    await a.close();
    await expect(jobA).rejects.toMatchObject({ name: "AbortError" });

    await until(() => h!.dev.job(jobId)?.deliveries.completed?.lastError !== undefined);
    const b = h.restart();
    const events = collect(b);
    await b.start();
    expect((await b.job(jobId)).text).toBe(SAMPLE_TEXT);
    await until(() => h!.dev.job(jobId)!.deliveries.completed!.state === "delivered");
    expect(h.dev.job(jobId)!.deliveries.completed!.attempts).toBeGreaterThan(1);
    expect(events.map((t) => t.jobId)).toEqual([jobId]);
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("at the deadline asks GET /v2/pre-recorded/{id} once: still processing → timeout; done → the result", async () => {
    h = await gladiaHarness({ processingDelayMs: 400 });
    // Started first: the deadline counts from the call and includes opening the store (slower on
    // PostgreSQL); these 100 ms are for the job.
    await h.client.start();
    const slow = await rejection(h.client.transcribe("https://audio.example/slow.wav", { timeoutMs: 100 }));
    expect(slow).toBeInstanceOf(TranscriptionTimeoutError);
    expect(slow.message).toContain("processing");
    expect(h.dev.stats.statusFetches).toBe(1);
    await h.cleanup();

    // The callback goes nowhere; the one status check finds the job done.
    h = await gladiaHarness({ processingDelayMs: 10, retryDelaysMs: [] }, adapter, { receiver: { port: 0, publicUrl: `http://127.0.0.1:${await freePort()}` } });
    const transcript = await h.client.transcribe("https://audio.example/lost.wav", { timeoutMs: 200, language: "en" });
    expect(transcript).toMatchObject({ text: SAMPLE_TEXT, language: "en", durationSec: 3.6 });
    expect(transcript.words[0]).toEqual({ text: "the", start: 0, end: 0.4, confidence: 1 });
    expect(transcript.raw).toMatchObject({ status: "done", kind: "pre-recorded" });
    expect(h.dev.stats.statusFetches).toBe(1);
  });

  it("fails a submit with a wrong key after one attempt, with Gladia's message and never the key", async () => {
    h = await gladiaHarness();
    const client = h.restart({ provider: adapter(h.dev, { apiKey: "wrong-gladia-key" }) });
    const error = await rejection(client.transcribe("https://audio.example/x.wav"));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error).toMatchObject({ status: 401, providerMessage: "gladia key not found" });
    expect(inspect(error, { depth: 10 })).not.toContain("wrong-gladia-key");
    expect(h.dev.stats.submits).toBe(1);
  });

  it("retries a submit answered 503 and starts one job", async () => {
    h = await gladiaHarness({ faults: { failFirstSubmits: 2 } });
    expect((await h.client.transcribe("https://audio.example/retry.wav")).text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.submits).toBe(3);
    expect(h.dev.jobs()).toHaveLength(1);
  });
});

describe("gladiaProvider options", () => {
  const configurationError = (options: unknown): Error => thrown(() => gladiaProvider(options as Parameters<typeof gladiaProvider>[0]));

  it("defaults to https://api.gladia.io", () => {
    expect(gladiaProvider({ apiKey: "k" })).toMatchObject({ name: "gladia", baseUrl: "https://api.gladia.io" });
  });

  it("rejects an unknown key, naming it", () => {
    const error = configurationError({ apiKey: "k", baseURL: "https://api.gladia.io" });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('baseURL: unknown option (did you mean "baseUrl"?)');
  });

  it("has no region option: Gladia has no regional pre-recorded host", () => {
    const error = configurationError({ apiKey: "k", region: "eu", baseUrl: "https://api.gladia.io" });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain("region: unknown option");
  });

  it("rejects params that would override what hookscribe sets, naming each", () => {
    const error = configurationError({
      apiKey: "k",
      params: { diarization: true, callback_config: { url: "https://elsewhere.example" }, custom_metadata: {}, language_config: { languages: ["de"] } },
    });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/params\.callback_config: set by hookscribe \(its own callback/);
    expect(error.message).toMatch(/params\.custom_metadata: set by hookscribe \(transcribe\(\)'s metadata option\)/);
    expect(error.message).toMatch(/params\.language_config: set by hookscribe \(transcribe\(\)'s language option\)/);
    expect(error.message).not.toContain("diarization");
  });

  it("checks the typed params and requires an apiKey without echoing one", () => {
    const error = configurationError({ apiKey: "", params: { diarization: "yes" } });
    expect(error.message).toContain("apiKey: must not be empty");
    expect(error.message).toContain("params.diarization: expected true or false");
  });
});

// ---------------------------------------------------------------------------------------------
// Wire mapping, against Gladia's published examples (API reference schema examples and the
// v1 → v2 migration guide's result), shortened, field names and units unchanged.

const fixture = fixtures("gladia").json;

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A loopback server answering every request with `answer`, recording what it received. */
async function fixtureServer(answer: TestAnswer) {
  const server = await testServer(() => answer);
  servers.push(server);
  return { url: server.url, requests: server.received, provider: gladiaProvider({ apiKey: "test-key", baseUrl: server.url, retry: { limit: 0 } }) };
}

const submitRequest = { audioUrl: "https://audio.example/a.mp3", webhookUrl: "https://hooks.example/webhooks/gladia/ref/token", webhookSecret: "per-job" };

describe("Gladia wire mapping", () => {
  const provider = gladiaProvider({ apiKey: "test-key" });

  it("a success callback: full_transcript, words trimmed of their leading space, seconds, speaker, language, duration, raw", async () => {
    const body = await fixture("callback-success.json");
    expect(provider.parse(webhookRequest(body))).toEqual({
      jobId: "45463597-20b7-4af7-b3b3-f5fb778203ab",
      status: "completed",
      result: {
        text: "Split infinity in a time when less is more,",
        words: [
          { text: "Split", start: 0.21001999999999998, end: 0.69015, confidence: 1, speaker: "1" },
          { text: "infinity", start: 0.91021, end: 1.55038, confidence: 0.95, speaker: "1" },
        ],
        language: "en",
        durationSec: 3600,
      },
      raw: body,
    });
  });

  it("an error callback: Gladia's message and code", async () => {
    const body = await fixture("callback-error.json");
    expect(provider.parse(webhookRequest(body))).toEqual({
      jobId: "45463597-20b7-4af7-b3b3-f5fb778203ab",
      status: "error",
      error: "Bad Request (Gladia error code 400)",
      raw: body,
    });
  });

  it("accepts unknown extra fields and a callback without a Content-Type; every webhook is left to the URL token", async () => {
    const body = { ...((await fixture("callback-error.json")) as object), timestamp: "2024-01-01T00:00:00Z", extra: { nested: true } };
    expect(provider.acceptsContentType(undefined)).toBe(true);
    expect(provider.acceptsContentType("application/json")).toBe(true);
    expect(provider.acceptsContentType("text/plain")).toBe(false);
    expect(provider.authenticate(webhookRequest(body, { contentType: undefined }), { isJobSecret: () => false })).toEqual({ ok: true });
    expect(provider.parse(webhookRequest(body, { contentType: undefined }))?.status).toBe("error");
  });

  it("a callback that does not fit is a ProviderPayloadError naming the field, never its content", async () => {
    const body = (await fixture("callback-success.json")) as { payload: { transcription: Record<string, unknown> } };
    delete body.payload.transcription.full_transcript;
    const missing = thrown(() => provider.parse(webhookRequest(body)));
    expect(missing).toBeInstanceOf(ProviderPayloadError);
    expect(missing.message).toContain("payload.transcription.full_transcript");
    expect(missing.message).not.toContain("Split infinity");
    expect(() => provider.parse(webhookRequest({ id: "x", event: "transcription.created" }))).toThrow(ProviderPayloadError);
    expect(() => provider.parse({ ...webhookRequest({}), rawBody: Buffer.from("not json") })).toThrow(/not valid JSON/);
  });

  it("a done result (the migration guide's example, utterance without confidence): the transcript, from GET /v2/pre-recorded/{id} with x-gladia-key", async () => {
    const body = await fixture("result-done.json");
    const server = await fixtureServer({ status: 200, body });
    const event = await server.provider.fetchResult!("0777a4fc-0b7e-40fb-9d37-690bdd83c9c6");
    expect(event).toEqual({
      jobId: "0777a4fc-0b7e-40fb-9d37-690bdd83c9c6",
      status: "completed",
      result: {
        text: "Split infinity",
        words: [
          { text: "Split", start: 0.21001999999999998, end: 0.69015, confidence: 1, speaker: "0" },
          { text: "infinity", start: 0.91021, end: 1.55038, confidence: 0.95, speaker: "0" },
        ],
        language: "en",
        durationSec: 20.555465,
      },
      raw: body,
    });
    expect(server.requests).toMatchObject([{ method: "GET", url: "/v2/pre-recorded/0777a4fc-0b7e-40fb-9d37-690bdd83c9c6", headers: { "x-gladia-key": "test-key" } }]);
  });

  it("an error result has only a code; a queued one is queued", async () => {
    const failed = await fixtureServer({ status: 200, body: await fixture("result-error.json") });
    expect(await failed.provider.fetchResult!("45463597-20b7-4af7-b3b3-f5fb778203ab")).toMatchObject({ status: "error", error: "Gladia reported error code 500" });
    const queued = await fixtureServer({ status: 200, body: await fixture("result-queued.json") });
    const event = await queued.provider.fetchResult!("45463597-20b7-4af7-b3b3-f5fb778203ab");
    expect(event).toMatchObject({ status: "queued" });
    expect(event.result).toBeUndefined();
  });

  it("a done result without its result is a ProviderPayloadError; a 401 is a FetchResultError with Gladia's message", async () => {
    const { result: _dropped, ...noResult } = (await fixture("result-done.json")) as Record<string, unknown>;
    const incomplete = await fixtureServer({ status: 200, body: noResult });
    await expect(incomplete.provider.fetchResult!("j")).rejects.toThrow(ProviderPayloadError);
    const unauthorized = await fixtureServer({ status: 401, body: await fixture("error-401.json") });
    const error = await rejection(unauthorized.provider.fetchResult!("j"));
    expect(error).toBeInstanceOf(FetchResultError);
    expect(error.message).toMatch(/HTTP 401 \(check apiKey\): gladia key not found/);
  });

  it("submits audio_url, callback, callback_config, language_config, custom_metadata and params as JSON with x-gladia-key; the id is the job id", async () => {
    const server = await fixtureServer({ status: 201, body: await fixture("submit-response.json") });
    const provider = gladiaProvider({ apiKey: "test-key", baseUrl: server.url, params: { diarization: true, model: "solaria-1" } });
    const { jobId } = await provider.submit({ ...submitRequest, language: "fr", metadata: { customer: "c-42" } }, { idempotencyKey: "k" });
    expect(jobId).toBe("45463597-20b7-4af7-b3b3-f5fb778203ab");
    const [request] = server.requests;
    expect(request).toMatchObject({ method: "POST", url: "/v2/pre-recorded", headers: { "x-gladia-key": "test-key", "content-type": "application/json" } });
    expect(JSON.parse(request!.text)).toEqual({
      diarization: true,
      model: "solaria-1",
      audio_url: "https://audio.example/a.mp3",
      callback: true,
      callback_config: { url: submitRequest.webhookUrl, method: "POST" },
      language_config: { languages: ["fr"] },
      custom_metadata: { customer: "c-42" },
    });
    // Gladia echoes nothing back, so the per-job secret is not sent anywhere.
    expect(request!.text).not.toContain("per-job");
  });

  it("without language or metadata, sends neither: Gladia detects the language", async () => {
    const server = await fixtureServer({ status: 201, body: await fixture("submit-response.json") });
    await server.provider.submit(submitRequest, { idempotencyKey: "k" });
    expect(Object.keys(JSON.parse(server.requests[0]!.text))).toEqual(["audio_url", "callback", "callback_config"]);
  });

  it("a submit taken with an answer that is not a job is a SubmitError with the answer's status, naming the field", async () => {
    const server = await fixtureServer({ status: 201, body: { result_url: "https://api.gladia.io/v2/pre-recorded/x" } });
    const error = await rejection(server.provider.submit(submitRequest, { idempotencyKey: "k" }));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error).toMatchObject({ status: 201, message: expect.stringMatching(/^gladia accepted the submit but answered an unexpected body \(id: /) });
  });

  it("a refused submit is a SubmitError with Gladia's message and validation errors", async () => {
    const server = await fixtureServer({ status: 400, body: await fixture("error-400.json") });
    const error = await rejection(server.provider.submit(submitRequest, { idempotencyKey: "k" }));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error).toMatchObject({
      status: 400,
      providerMessage: 'Content-Type is missing Multipart Boundary. (Field "language" must be a string; Field "min_speakers" must be a number)',
    });
  });
});
