import {
  ConfigurationError,
  type DeepgramProviderOptions,
  ProviderPayloadError,
  SubmitError,
  Transcriber,
  TranscriptionError,
  TranscriptionTimeoutError,
  deepgramProvider,
} from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookContext, WebhookRequest } from "../../src/verification/webhook-request.js";
import { type Harness, SAMPLE_TEXT, freePort, rejection, until } from "../helpers.js";
import { collect, dialectHarness, fastAdapter, fixtures, postWebhook, thrown, transcribeNoting, transcriptionFailure, webhookRequest } from "./provider-test-kit.js";

let h: Harness;
afterEach(async () => h?.cleanup());

const adapter = fastAdapter(deepgramProvider);
const deepgramHarness = dialectHarness("deepgram", adapter);
const fixture = fixtures("deepgram").json;

/** A callback as the receiver hands it to the adapter. */
function callback(body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  return webhookRequest(body, { headers: { "content-type": "application/json", ...headers } });
}

const JOB_SECRET: WebhookContext = { isJobSecret: (candidate) => candidate === "YOUR_SECRET" };
const offline = deepgramProvider({ apiKey: "dg-key" });

/** A result body for `requestId` carrying `secret`, as an attacker holding the URL might send it. */
function forgedBody(requestId: string, secret: string) {
  return {
    metadata: { request_id: requestId, duration: 1, extra: { callback_secret: secret } },
    results: { channels: [{ alternatives: [{ transcript: "forged", words: [] }] }] },
  };
}

describe("deepgramProvider end to end against the deepgram dialect", () => {
  it("resolves from the full callback: text, words in seconds with punctuation and speakers, no fetch", async () => {
    h = await deepgramHarness({ engine: fixedTextEngine("Hello from hookscribe.") }, (dev) =>
      adapter(dev, { params: { model: "nova-3", smart_format: true, diarize: true } }),
    );
    const { jobId, transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/call.wav");

    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(transcript).toMatchObject({ jobId, provider: "deepgram", status: "completed", text: "Hello from hookscribe.", durationSec: 1.2 });
    expect(transcript.words).toEqual([
      { text: "Hello", start: 0, end: 0.4, confidence: 1, speaker: "0" },
      { text: "from", start: 0.4, end: 0.8, confidence: 1, speaker: "0" },
      { text: "hookscribe.", start: 0.8, end: 1.2, confidence: 1, speaker: "0" },
    ]);
    const raw = transcript.raw as { metadata: { request_id: string; extra: Record<string, string> }; results: { channels: { alternatives: { words: { word: string }[] }[] }[] } };
    expect(raw.metadata.request_id).toBe(jobId);
    expect(raw.results.channels[0]!.alternatives[0]!.words.map((w) => w.word)).toEqual(["hello", "from", "hookscribe"]);
    // The per-job secret authenticated the callback and is not kept.
    expect(raw.metadata.extra).toEqual({});
    // Deepgram announces nothing before the result.
    expect(statuses).toEqual(["queued", "completed"]);
    // The await may resolve before the emulator has read the callback's 200 (it is sent first).
    await until(() => h.dev.stats.webhooksDelivered === 1);
    expect(h.dev.stats).toMatchObject({ submits: 1, statusFetches: 0, webhooksSent: 1, webhooksDelivered: 1 });
  });

  it("sends language as the language query and metadata as extra pairs, echoed back in the callback", async () => {
    h = await deepgramHarness({}, (dev) => adapter(dev, { params: { detect_language: true } }));
    const transcript = await h.client.transcribe("https://audio.example/fr.wav", { language: "fr", metadata: { tenant: "acme", attempt: 2, tags: ["a", "b"] } });
    const raw = transcript.raw as { metadata: { extra: Record<string, string> }; results: { channels: { detected_language: string }[] } };
    expect(raw.metadata.extra).toEqual({ tenant: "acme", attempt: "2", tags: '["a","b"]', hookscribe_language: "fr" });
    // The emulator detects the language the submit's language query named.
    expect(raw.results.channels[0]!.detected_language).toBe("fr");
    expect(transcript.language).toBe("fr");
  });

  it("reports the requested language when Deepgram detects none", async () => {
    h = await deepgramHarness();
    const transcript = await h.client.transcribe("https://audio.example/de.wav", { language: "de" });
    expect(transcript.language).toBe("de");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect((await h.client.transcribe("https://audio.example/any.wav")).language).toBeUndefined();
  });

  it("rejects with TranscriptionError carrying Deepgram's failure message", async () => {
    h = await deepgramHarness({ faults: { errorResult: true } });
    const events = collect(h.client);
    const { jobId, error } = await transcriptionFailure(h.client, "https://audio.example/broken.wav");
    expect(error.message).toContain("Simulated failure");
    expect(events).toEqual([]);
    await expect(h.client.job(jobId)).rejects.toBeInstanceOf(TranscriptionError);
  });

  it("refuses forged callbacks with 401 and stores nothing: no URL token, a wrong secret, no secret", async () => {
    h = await deepgramHarness({ processingDelayMs: 500 });
    const job = h.client.transcribe("https://audio.example/forged.wav");
    const jobId = await job.submitted;
    const url = h.dev.job(jobId)!.webhookUrl!;
    const token = url.split("/").pop()!;
    const post = (target: string, body: unknown) => postWebhook(target, body).then((r) => r.status);

    expect(await post(url.replace(token, "A".repeat(token.length)), forgedBody(jobId, "whatever"))).toBe(401);
    expect(await post(url.slice(0, -token.length - 1), forgedBody(jobId, "whatever"))).toBe(401);
    expect(await post(url, forgedBody(jobId, "not-the-job-secret"))).toBe(401);
    const { metadata, results } = forgedBody(jobId, "");
    expect(await post(url, { metadata: { request_id: metadata.request_id }, results })).toBe(401);
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "queued", processed: false, transcript: undefined });

    expect((await job).text).toBe(SAMPLE_TEXT);
  });

  it("checks dg-token against apiKeyId when given (the emulator's webhookSecret stands in for the key's id)", async () => {
    h = await deepgramHarness({ retryDelaysMs: [10, 10] });
    const withKeyId = h.restart({ provider: adapter(h.dev, { apiKeyId: h.dev.webhookSecret }) });
    expect((await withKeyId.transcribe("https://audio.example/id.wav")).text).toBe(SAMPLE_TEXT);
    await withKeyId.close();

    const wrongKeyId = h.restart({ provider: adapter(h.dev, { apiKeyId: "another-key-id" }) });
    const job = wrongKeyId.transcribe("https://audio.example/wrong-id.wav", { timeoutMs: 300 });
    const jobId = await job.submitted;
    await until(() => h.dev.job(jobId)?.deliveries.completed?.state === "dead_letter");
    expect(h.dev.job(jobId)!.deliveries.completed).toMatchObject({ attempts: 3, lastError: "HTTP 401" });
    expect(await rejection(job)).toBeInstanceOf(TranscriptionTimeoutError);
  });

  it("stores duplicates once and announces one transcript", async () => {
    h = await deepgramHarness({ faults: { duplicateDeliveries: 2 } });
    const events = collect(h.client);
    const transcript = await h.client.transcribe("https://audio.example/dup.wav");
    await until(() => h.dev.stats.webhooksDelivered === 3);
    expect(events.map((t) => t.jobId)).toEqual([transcript.jobId]);
    await h.client.close();
    const stored = await h.stored();
    expect(Object.values(stored.jobs)).toMatchObject([{ status: "completed", processed: true }]);
    expect(Object.keys(stored.inbox)).toHaveLength(0);
  });

  it("a late failure after the result changes nothing (Deepgram has no stale status of its own to send out of order)", async () => {
    await expect(startDevProvider({ dialect: "deepgram", faults: { outOfOrder: true } })).rejects.toThrow(/outOfOrder is for the generic dialect/);
    h = await deepgramHarness();
    const transcript = await h.client.transcribe("https://audio.example/ooo.wav");
    const url = h.dev.job(transcript.jobId)!.webhookUrl!;
    const late = { err_code: "Bad Request", err_msg: "late failure", request_id: transcript.jobId };
    expect((await postWebhook(url, late)).status).toBe(200);
    expect(await h.client.inspect(transcript.jobId)).toMatchObject({ status: "completed", transcript: { text: SAMPLE_TEXT } });
  });

  it("resolves when the callback arrives before the submit's answer", async () => {
    h = await deepgramHarness({ faults: { webhookBeforeSubmitResponse: true } });
    const { transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/early.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(statuses).not.toContain("queued");
  });

  it("a callback that failed while no process listened resolves client B's job(id) after a restart", async () => {
    const port = await freePort();
    h = await deepgramHarness({ processingDelayMs: 300, retryDelaysMs: [50, 100, 200, 400, 800] }, adapter, { receiver: { port } });
    const job = h.client.transcribe("https://audio.example/restart.wav");
    const jobId = await job.submitted;
    await h.client.close();
    expect(((await rejection(job)) as Error).name).toBe("AbortError");
    await until(() => h.dev.job(jobId)?.deliveries.completed?.lastError !== undefined);

    const b = h.restart();
    await b.start();
    const transcript = await b.job(jobId);
    expect(transcript).toMatchObject({ jobId, text: SAMPLE_TEXT });
    expect(h.dev.job(jobId)!.deliveries.completed!.attempts).toBeGreaterThan(1);
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("at the deadline asks nothing (Deepgram has no status endpoint); a late callback still resolves client.job(id)", async () => {
    h = await deepgramHarness({ processingDelayMs: 300 });
    // Started first: the deadline counts from the call and includes opening the store (slower on
    // PostgreSQL); these 100 ms are for the job.
    await h.client.start();
    const job = h.client.transcribe("https://audio.example/slow.wav", { timeoutMs: 100 });
    const error = await rejection(job);
    expect(error).toBeInstanceOf(TranscriptionTimeoutError);
    expect(error.message).toContain("cannot be asked for the status");
    expect((await h.client.job(job.jobId!)).text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("retries a submit answered 503 and creates one request", async () => {
    h = await deepgramHarness({ faults: { failFirstSubmits: 2 } });
    expect((await h.client.transcribe("https://audio.example/retry.wav")).text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.submits).toBe(3);
    expect(h.dev.jobs()).toHaveLength(1);
  });

  it("fails a submit with a wrong key with Deepgram's message and never shows the key", async () => {
    h = await deepgramHarness();
    const client = h.restart({ provider: adapter(h.dev, { apiKey: "wrong-key" }) });
    const error = await rejection(client.transcribe("https://audio.example/x.wav"));
    expect(error).toBeInstanceOf(SubmitError);
    expect((error as SubmitError).status).toBe(401);
    expect((error as SubmitError).providerMessage).toBe("Invalid credentials.");
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain("wrong-key");
    expect(h.dev.stats.submits).toBe(1);
  });

  it("logs neither the key, the URL token, the echoed extra pairs nor the transcript", async () => {
    h = await deepgramHarness({ retryDelaysMs: [10] }, (dev) => adapter(dev, { apiKeyId: "not-the-emulator-key-id" }));
    const refused = h.client.transcribe("https://audio.example/log.wav", { metadata: { account: "acct-secret-42" }, timeoutMs: 200 });
    const jobId = await refused.submitted;
    await rejection(refused);
    await h.client.close();
    const client = h.restart({ provider: adapter(h.dev) });
    await client.transcribe("https://audio.example/log.wav", { metadata: { account: "acct-secret-42" } });
    const token = h.dev.job(jobId)!.webhookUrl!.split("/").pop()!;
    const text = JSON.stringify(h.logs);
    expect(text).toContain("webhook failed verification");
    for (const secret of [h.dev.apiKey, h.dev.webhookSecret, token, "acct-secret-42", SAMPLE_TEXT, "quick brown"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("refuses a public receiver URL on a port Deepgram does not call back to, when the client is built", async () => {
    h = await deepgramHarness();
    const build = (publicUrl: string) => () => new Transcriber({ provider: adapter(h.dev), receiver: { port: 0, publicUrl }, storePath: `${h.dir}/other.json` });
    expect(build("https://hooks.example.com:3000")).toThrow(ConfigurationError);
    expect(build("https://hooks.example.com:3000")).toThrow(/ports 80, 443, 8080, 8443.*port 3000/);
    expect(build("https://hooks.example.com:8443")).not.toThrow();
    expect(h.dev.stats.submits).toBe(0);
  });

  it("refuses metadata Deepgram's extra pairs cannot carry, before submitting", async () => {
    h = await deepgramHarness();
    for (const metadata of [{ callback_secret: "mine" }, { "a:b": "c" }, { long: "x".repeat(2048) }]) {
      await expect(h.client.transcribe("https://audio.example/meta.wav", { metadata })).rejects.toBeInstanceOf(ConfigurationError);
    }
    expect(h.dev.stats.submits).toBe(0);
  });
});

describe("deepgramProvider options", () => {
  it.each([
    [{ apiKey: "k", apiKeyID: "x" }, /apiKeyID: unknown option \(did you mean "apiKeyId"\?\)/],
    [{ apiKey: "k", region: "eu", baseUrl: "https://proxy.example" }, /baseUrl: give region or baseUrl, not both/],
    [{ apiKey: "k", region: "mars" }, /region: must be one of "eu", "au", "in", "us"/],
    [{ apiKey: "" }, /apiKey: must not be empty/],
    [{ apiKey: "k", params: { callback: "https://elsewhere.example" } }, /params\.callback: set by hookscribe \(the job's own webhook URL\)/],
    [{ apiKey: "k", params: { callback_method: "put" } }, /params\.callback_method: set by hookscribe \(POST/],
    [{ apiKey: "k", params: { extra: "a:b", language: "en" } }, /params\.extra: .*metadata.*params\.language: .*transcribe/],
    [{ apiKey: "k", params: { smart_format: "yes" } }, /params\.smart_format/],
  ])("%j → ConfigurationError", (options, message) => {
    const error = thrown(() => deepgramProvider(options as DeepgramProviderOptions));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(message);
  });

  it("region picks Deepgram's regional host; the default is the global one", () => {
    expect(deepgramProvider({ apiKey: "k" }).baseUrl).toBe("https://api.deepgram.com");
    expect(deepgramProvider({ apiKey: "k", region: "eu" }).baseUrl).toBe("https://api.eu.deepgram.com");
    expect(deepgramProvider({ apiKey: "k", region: "au" }).baseUrl).toBe("https://api.au.deepgram.com");
  });

  it("checkWebhookUrl allows ports 80, 443, 8080 and 8443, and any port on loopback", () => {
    for (const ok of ["https://hooks.example.com", "http://hooks.example.com", "https://hooks.example.com:8443", "http://hooks.example.com:8080", "http://127.0.0.1:41234", "http://localhost:3000"]) {
      expect(() => offline.checkWebhookUrl!(ok), ok).not.toThrow();
    }
    expect(() => offline.checkWebhookUrl!("https://hooks.example.com:8787")).toThrow(ConfigurationError);
    expect(() => offline.checkWebhookUrl!("http://hooks.example.com:443")).not.toThrow();
  });

  it("has no fetchResult: the callback body is the only copy", () => {
    expect(offline.fetchResult).toBeUndefined();
  });
});

/*
 * Published examples, shortened: spacewalk.json is the pre-recorded response the official SDK's
 * own tests answer with; diarization.json carries the word of Deepgram's diarization example;
 * language-detection.json is its language detection example as published (placeholder strings, no
 * alternatives); extra-metadata.json echoes an `extra` pair. failure.json is the failure shape
 * hookscribe takes, since Deepgram documents none: its legacy error body, with the text of the 400
 * it answers for audio it cannot decode, plus the response's `metadata`.
 */
describe("deepgram wire mapping against published examples", () => {
  it("spacewalk.json: transcript as text, punctuated_word as word text, seconds kept, raw untouched", async () => {
    const body = await fixture("spacewalk.json");
    const event = offline.parse(callback(body));
    expect(event).toEqual({
      jobId: "mock-request-id-1234",
      status: "completed",
      result: {
        text: "Yeah. As much",
        words: [
          { text: "Yeah.", start: 0, end: 0.48, confidence: 0.99592936 },
          { text: "As", start: 0.48, end: 0.64, confidence: 0.994148 },
          { text: "much", start: 1.12, end: 1.36, confidence: 0.99942505 },
        ],
        durationSec: 25.933313,
      },
      raw: body,
    });
  });

  it("diarization.json: the speaker number becomes the word's speaker label", async () => {
    const event = offline.parse(callback(await fixture("diarization.json")));
    expect(event?.result?.words).toEqual([{ text: "hello", start: 15.259043, end: 15.338787, confidence: 0.9721591, speaker: "0" }]);
  });

  it("language-detection.json: the detected language, and no alternative is an empty transcript", async () => {
    const event = offline.parse(callback(await fixture("language-detection.json")));
    expect(event).toMatchObject({ jobId: "string", status: "completed", result: { text: "", words: [], language: "fr", durationSec: 0 } });
  });

  it("extra-metadata.json: authenticated by metadata.extra.callback_secret, which raw does not keep", async () => {
    const body = await fixture("extra-metadata.json");
    expect(offline.authenticate(callback(body), JOB_SECRET)).toEqual({ ok: true });
    expect(offline.authenticate(callback(body), { isJobSecret: () => false })).toEqual({ ok: false, reason: "metadata.extra.callback_secret is not this job's secret" });
    const event = offline.parse(callback(body));
    expect((event?.raw as { metadata: { extra: unknown } }).metadata.extra).toEqual({ myKey: "someValue" });
  });

  it("failure.json: status error with Deepgram's err_msg", async () => {
    const body = await fixture("failure.json");
    expect(offline.authenticate(callback(body), JOB_SECRET)).toEqual({ ok: true });
    expect(offline.parse(callback(body))).toMatchObject({
      jobId: "mock-request-id-3456",
      status: "error",
      error: "Bad Request: failed to process audio: corrupt or unsupported data",
    });
  });

  it("a failure in the legacy error shape alone, without the response's metadata: the URL token authenticates it, request_id correlates it", () => {
    const legacy = { err_code: "Bad Request", err_msg: "failed to process audio", request_id: "r-legacy" };
    expect(offline.authenticate(callback(legacy), JOB_SECRET)).toEqual({ ok: true });
    expect(offline.parse(callback(legacy))).toMatchObject({ jobId: "r-legacy", status: "error", error: "failed to process audio" });
    expect(() => offline.parse(callback({ err_msg: "no id at all" }))).toThrow(/request_id/);
  });

  it("a body without the secret, or not JSON, fails authentication without throwing", async () => {
    const spacewalk = await fixture("spacewalk.json");
    expect(offline.authenticate(callback(spacewalk), JOB_SECRET)).toEqual({ ok: false, reason: "no metadata.extra.callback_secret in the callback body" });
    expect(offline.authenticate({ ...callback({}), rawBody: Buffer.from("{not json") }, JOB_SECRET).ok).toBe(false);
  });

  it("apiKeyId makes dg-token required and compared", async () => {
    const body = await fixture("extra-metadata.json");
    const withKeyId = deepgramProvider({ apiKey: "k", apiKeyId: "key-id-1" });
    expect(withKeyId.authenticate(callback(body, { "dg-token": "key-id-1" }), JOB_SECRET)).toEqual({ ok: true });
    expect(withKeyId.authenticate(callback(body, { "dg-token": "key-id-2" }), JOB_SECRET).ok).toBe(false);
    expect(withKeyId.authenticate(callback(body), JOB_SECRET)).toEqual({ ok: false, reason: "dg-token header missing or not the configured apiKeyId" });
  });

  it("a payload that fits neither shape is a ProviderPayloadError naming the field", async () => {
    const body = await fixture("spacewalk.json");
    const broken = { ...body, results: { channels: [] } };
    expect(() => offline.parse(callback(broken))).toThrow(ProviderPayloadError);
    expect(() => offline.parse(callback(broken))).toThrow(/results\.channels/);
    expect(() => offline.parse(callback({ metadata: { request_id: "r" } }))).toThrow(/failure callback body.*err_msg/);
    expect(() => offline.parse(callback({ results: {}, metadata: {} }))).toThrow(/metadata\.request_id/);
  });

  it("accepts JSON or no content type", () => {
    expect(offline.acceptsContentType("application/json")).toBe(true);
    expect(offline.acceptsContentType(undefined)).toBe(true);
    expect(offline.acceptsContentType("text/plain")).toBe(false);
  });
});
