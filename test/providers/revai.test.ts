import {
  ConfigurationError,
  FetchResultError,
  ProviderPayloadError,
  SubmitError,
  TranscriptionTimeoutError,
  revAIProvider,
} from "hookscribe";
import { type DevProvider, fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { afterEach, describe, expect, it } from "vitest";
import { revAIDialect } from "../../src/dev/dialect-revai.js";
import { type Harness, SAMPLE_TEXT, freePort, rejection, until } from "../helpers.js";
import { type TestServer, collect, dialectHarness, fastAdapter, fixtures, postWebhook, recordingSecrets, testServer, transcribeNoting, transcriptionFailure, webhookEndpoint, webhookRequest } from "./provider-test-kit.js";

/*
 * revAIProvider end to end against the emulator's "revai" dialect (real receiver, real HTTP, a
 * store in a temp dir), then its wire mapping against Rev.ai's published examples.
 */

let h: Harness;
afterEach(async () => h?.cleanup());

const adapter = fastAdapter(revAIProvider);
const revHarness = dialectHarness("revai", adapter);

/** The job as the emulator reports it to anyone holding the token (counts as a status fetch). */
async function emulatorJob(dev: DevProvider, jobId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${dev.url}/speechtotext/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${dev.apiKey}` } });
  return (await response.json()) as Record<string, unknown>;
}

describe("revAIProvider against the revai dialect", () => {
  it("round trip: one thin webhook, job details and transcript fetched once, words in seconds", async () => {
    h = await revHarness();
    const { jobId, transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/call.wav");

    expect(jobId).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(transcript).toMatchObject({ jobId, provider: "revai", status: "completed", text: SAMPLE_TEXT, language: "en", durationSec: 3.6 });
    expect(transcript.words).toHaveLength(9);
    expect(transcript.words[0]).toEqual({ text: "the", start: 0, end: 0.4, confidence: 1, speaker: "0" });
    expect(transcript.words[8]).toEqual({ text: "dog", start: 3.2, end: 3.6, confidence: 1, speaker: "0" });
    // Rev.ai announces no processing: queued after the submit, then the end.
    expect(statuses).toEqual(["queued", "completed"]);
    expect(h.dev.stats.submits).toBe(1);
    // GET /jobs/{id}, then GET /jobs/{id}/transcript.
    expect(h.dev.stats.statusFetches).toBe(2);
    const raw = transcript.raw as { job: { id: string; status: string }; transcript: { monologues: unknown[] } };
    expect(raw.job).toMatchObject({ id: jobId, status: "transcribed" });
    expect(raw.transcript.monologues).toHaveLength(1);
  });

  it("keeps punctuation attached and the spaces Rev.ai sends", async () => {
    h = await revHarness({ engine: async () => ({ text: "Hello, world. Bye!" }) });
    const transcript = await h.client.transcribe("https://audio.example/punct.wav");
    expect(transcript.text).toBe("Hello, world. Bye!");
    // Words in their written form: captions keep the punctuation and end cues at sentence ends.
    expect(transcript.words.map((w) => w.text)).toEqual(["Hello,", "world.", "Bye!"]);
  });

  it("fetches a thin delivery's result once however often it is delivered, and out of order", async () => {
    h = await revHarness({ faults: { duplicateDeliveries: 2 } });
    const events = collect(h.client);
    const transcript = await h.client.transcribe("https://audio.example/dup.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    await until(() => h.dev.stats.webhooksDelivered === 3);
    expect(h.dev.stats.statusFetches).toBe(2);
    expect(events.map((t) => t.jobId)).toEqual([transcript.jobId]);
    // outOfOrder has no stale processing webhook to send here: Rev.ai never announces one.
    expect(h.dev.stats.webhooksSent).toBe(3);
  });

  it("a stale in_progress delivery after the end is answered 200 and changes nothing", async () => {
    const secrets: string[] = [];
    h = await revHarness({}, (dev) => recordingSecrets(adapter(dev), secrets));
    const transcript = await h.client.transcribe("https://audio.example/stale.wav");
    const url = h.dev.job(transcript.jobId)!.webhookUrl!;
    const stale = await postWebhook(url, { job: { id: transcript.jobId, status: "in_progress" } }, { authorization: `Bearer ${secrets[0]}` });
    expect(stale.status).toBe(200);
    expect((await h.client.job(transcript.jobId)).text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.statusFetches).toBe(2);
  });

  it("a failed job rejects with Rev.ai's failure_detail, taken from the webhook without a fetch", async () => {
    h = await revHarness({ faults: { errorResult: true } });
    const { jobId, error } = await transcriptionFailure(h.client, "https://audio.example/broken.wav");
    expect(error.message).toContain("Simulated failure");
    expect(h.dev.stats.statusFetches).toBe(0);
    expect(await emulatorJob(h.dev, jobId)).toMatchObject({ status: "failed", failure: "internal_processing" });
  });

  it("refuses forged deliveries with 401 and stores nothing from them", async () => {
    const secrets: string[] = [];
    h = await revHarness({ processingDelayMs: 300 }, (dev) => recordingSecrets(adapter(dev), secrets));
    const job = h.client.transcribe("https://audio.example/forged.wav");
    const jobId = await job.submitted;
    await until(() => job.status === "queued");
    const url = h.dev.job(jobId)!.webhookUrl!;
    const forged = { job: { id: jobId, status: "failed", failure_detail: "forged" } };

    const wrongToken = url.replace(/\/[^/]+$/, "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect((await postWebhook(url.replace(/\/[^/]+$/, ""), forged, { authorization: `Bearer ${secrets[0]}` })).status).toBe(401);
    expect((await postWebhook(wrongToken, forged, { authorization: `Bearer ${secrets[0]}` })).status).toBe(401);
    expect((await postWebhook(url, forged)).status).toBe(401);
    expect((await postWebhook(url, forged, { authorization: "Bearer not-the-secret" })).status).toBe(401);
    expect((await postWebhook(url, forged, { authorization: secrets[0]! })).status).toBe(401);
    expect(job.status).toBe("queued");
    expect(h.logs.filter((log) => log.msg === "webhook failed verification")).toHaveLength(3);

    // The real webhook still gets through.
    expect((await job).text).toBe(SAMPLE_TEXT);
  });

  it("resolves when the webhook beats the submit's answer", async () => {
    h = await revHarness({ faults: { webhookBeforeSubmitResponse: true } });
    const transcript = await h.client.transcribe("https://audio.example/early.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(h.dev.job(transcript.jobId)!.deliveries.completed).toMatchObject({ state: "delivered", attempts: 1 });
  });

  it("retries a delivery until exactly 200: a webhook missed while no process listened resolves client B's job(id)", async () => {
    const port = await freePort();
    h = await revHarness({ processingDelayMs: 300, retryDelaysMs: [50, 100, 200, 400, 800] }, adapter, { receiver: { port } });
    const a = h.client;
    const jobA = a.transcribe("https://audio.example/restart.wav");
    const jobId = await jobA.submitted;
    await a.close();
    await jobA.catch(() => undefined);

    await until(() => h.dev.job(jobId)?.deliveries.completed?.lastError !== undefined);
    expect(h.dev.job(jobId)!.deliveries.completed!.state).toBe("pending");

    const b = h.restart();
    await b.start();
    const transcript = await b.job(jobId);
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(h.dev.job(jobId)!.deliveries.completed!.state).toBe("delivered");
  });

  it("sends language and metadata where Rev.ai keeps them: the job's language and its metadata string", async () => {
    h = await revHarness();
    const metadata = { customer: "c-42", call: 7 };
    const transcript = await h.client.transcribe("https://audio.example/es.wav", { language: "es", metadata });
    expect(transcript.language).toBe("es");
    const job = await emulatorJob(h.dev, transcript.jobId);
    expect(job).toMatchObject({ id: transcript.jobId, language: "es", metadata: JSON.stringify(metadata) });
    expect((transcript.raw as { job: { metadata: string } }).job.metadata).toBe(JSON.stringify(metadata));
  });

  it("refuses metadata over Rev.ai's 512 characters before submitting", async () => {
    h = await revHarness();
    const error = await rejection(h.client.transcribe("https://audio.example/long.wav", { metadata: { note: "x".repeat(520) } }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/metadata is \d+ characters as JSON; Rev\.ai keeps at most 512/);
    expect(error.message).not.toContain("xxxx");
    expect(h.dev.stats.submits).toBe(0);
  });

  it("merges params into the submit, and Rev.ai's own 400 comes back as a SubmitError naming the field", async () => {
    h = await revHarness({}, (dev) => adapter(dev, { params: { skip_diarization: true, speaker_channels_count: 2 } }));
    const transcript = await h.client.transcribe("https://audio.example/params.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(await emulatorJob(h.dev, transcript.jobId)).toMatchObject({ skip_diarization: true, speaker_channels_count: 2 });

    const invalid = await rejection(
      adapter(h.dev).submit({ audioUrl: "not a url", webhookUrl: "https://hooks.example/x", webhookSecret: "s" }, { idempotencyKey: "k" }),
    );
    expect(invalid).toBeInstanceOf(SubmitError);
    expect(invalid.message).toBe("revai refused the submit with HTTP 400: Your request parameters didn't validate; source_config.url: Invalid URL");
  });

  it("a wrong access token is a SubmitError with Rev.ai's message, never the token", async () => {
    h = await revHarness();
    const error = await rejection(adapter(h.dev, { apiKey: "wrong-token" }).submit({ audioUrl: "https://a/b.wav", webhookUrl: "https://c/d", webhookSecret: "s" }, { idempotencyKey: "k" }));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error).toMatchObject({ status: 401, providerMessage: "Authorization has been denied for this request" });
    expect(error.message).not.toContain("wrong-token");
  });

  it("at the deadline asks once (the job details only, while in progress), and a late webhook still resolves job(id)", async () => {
    h = await revHarness({ processingDelayMs: 400 });
    // Started first: the deadline counts from the call and includes opening the store (slower on
    // PostgreSQL); these 100 ms are for the job.
    await h.client.start();
    const job = h.client.transcribe("https://audio.example/slow.wav", { timeoutMs: 100 });
    const error = await rejection(job);
    expect(error).toBeInstanceOf(TranscriptionTimeoutError);
    expect(error.message).toContain("processing");
    expect(h.dev.stats.statusFetches).toBe(1);
    expect((await h.client.job(job.jobId!)).text).toBe(SAMPLE_TEXT);
  });
});

describe("the revai dialect's sender", () => {
  let dev: DevProvider | undefined;
  let hooks: TestServer | undefined;
  afterEach(async () => {
    await dev?.close();
    await hooks?.close();
  });

  /** A webhook endpoint answering `statuses` in turn (the last one from then on). */
  async function endpoint(statuses: number[]): Promise<string> {
    hooks = await webhookEndpoint("/hook", (attempt) => statuses[Math.min(attempt, statuses.length) - 1]!);
    return hooks.url;
  }

  async function submitTo(url: string): Promise<string> {
    const response = await fetch(`${dev!.url}/speechtotext/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${dev!.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ source_config: { url: "https://audio.example/a.mp3" }, notification_config: { url } }),
    });
    return ((await response.json()) as { id: string }).id;
  }

  it("counts only exactly 200 as delivered: a 202 or a 204 is retried", async () => {
    dev = await startDevProvider({ dialect: "revai", engine: fixedTextEngine(SAMPLE_TEXT), processingDelayMs: 10, retryDelaysMs: [10, 10, 10] });
    const jobId = await submitTo(await endpoint([202, 204, 200]));
    await until(() => dev!.job(jobId)?.deliveries.completed?.state === "delivered");
    expect(dev.job(jobId)!.deliveries.completed!.attempts).toBe(3);
  });

  it("stops at a 410 (unsubscribed), retries a 4xx otherwise", async () => {
    dev = await startDevProvider({ dialect: "revai", engine: fixedTextEngine(SAMPLE_TEXT), processingDelayMs: 10, retryDelaysMs: [10, 10, 10] });
    const jobId = await submitTo(await endpoint([400, 401, 410]));
    await until(() => dev!.job(jobId)?.deliveries.completed?.state === "failed");
    expect(dev.job(jobId)!.deliveries.completed).toMatchObject({ attempts: 3, lastError: "HTTP 410" });
  });

  it("retries every 30 minutes for 24 hours by default", () => {
    const { retryDelaysMs } = revAIDialect();
    expect(retryDelaysMs).toHaveLength(48);
    expect(new Set(retryDelaysMs)).toEqual(new Set([30 * 60_000]));
  });
});

describe("revAIProvider options", () => {
  const valid = { apiKey: "token" };

  it("defaults to the US deployment; region eu sets Rev.ai's EU host", () => {
    expect(revAIProvider(valid).baseUrl).toBe("https://api.rev.ai");
    expect(revAIProvider({ ...valid, region: "eu" }).baseUrl).toBe("https://ec1.api.rev.ai");
    expect(revAIProvider({ ...valid, baseUrl: "http://127.0.0.1:9" }).baseUrl).toBe("http://127.0.0.1:9");
  });

  it("rejects an unknown key, region with baseUrl, a bad region and a missing token", () => {
    expect(() => revAIProvider({ ...valid, regoin: "eu" } as never)).toThrow(/regoin: unknown option \(did you mean "region"\?\)/);
    expect(() => revAIProvider({ ...valid, region: "eu", baseUrl: "https://proxy.example" })).toThrow(ConfigurationError);
    expect(() => revAIProvider({ ...valid, region: "eu", baseUrl: "https://proxy.example" })).toThrow(/baseUrl: give region or baseUrl, not both/);
    expect(() => revAIProvider({ ...valid, region: "ap" as never })).toThrow(/region: must be one of "us", "eu"/);
    expect(() => revAIProvider({} as never)).toThrow(/apiKey: required/);
  });

  it("rejects params that would override what hookscribe sets, naming each", () => {
    const attempt = () =>
      revAIProvider({ ...valid, params: { notification_config: { url: "https://evil.example" }, language: "fr", metadata: "m", skip_diarization: true } });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/params\.notification_config: set by hookscribe \(the per-job webhook URL and its Authorization secret\)/);
    expect(attempt).toThrow(/params\.language: set by hookscribe/);
    expect(attempt).toThrow(/params\.metadata: set by hookscribe/);
    expect(() => revAIProvider({ ...valid, params: { source_config: {} } })).toThrow(/params\.source_config/);
    expect(() => revAIProvider({ ...valid, params: { speaker_channels_count: 9 } })).toThrow(/params\.speaker_channels_count: must be <= 8/);
  });
});

interface FakeRoute {
  status?: number;
  body: string;
  contentType?: string;
}

/** A stand-in for api.rev.ai answering fixed bodies by `METHOD path`; it records every request. */
function fakeRevAI(routes: Record<string, FakeRoute>): Promise<TestServer> {
  return testServer(({ method, url }) => {
    const route = routes[`${method} ${url}`];
    return route ? { status: route.status ?? 200, body: route.body, contentType: route.contentType } : { status: 500 };
  });
}

/** `METHOD path` of each request `fake` received. */
function requestLines(fake: TestServer): string[] {
  return fake.received.map(({ method, url }) => `${method} ${url}`);
}

const fixture = fixtures("revai").text;

describe("Rev.ai wire mapping (published examples)", () => {
  let server: TestServer | undefined;
  afterEach(() => server?.close());

  it("parses the transcribed webhook as a thin completed event", async () => {
    const event = revAIProvider({ apiKey: "t" }).parse(webhookRequest(await fixture("webhook-transcribed.json")));
    expect(event).toEqual({ jobId: "Umx5c6F7pH7r", status: "completed", raw: JSON.parse(await fixture("webhook-transcribed.json")) });
  });

  it("parses the failed webhook with its failure_detail as the error", async () => {
    const event = revAIProvider({ apiKey: "t" }).parse(webhookRequest(await fixture("webhook-failed.json")));
    expect(event).toMatchObject({ jobId: "Umx5c6F7pH7r", status: "error", error: "Failed to download media file. Please check your url and file type" });
  });

  it("refuses a webhook with an unknown status or no id, naming the field, never the content", () => {
    const provider = revAIProvider({ apiKey: "t" });
    const unknownStatus = () => provider.parse(webhookRequest(JSON.stringify({ job: { id: "x", status: "exploded" } })));
    expect(unknownStatus).toThrow(ProviderPayloadError);
    expect(unknownStatus).toThrow(/job\.status/);
    expect(() => provider.parse(webhookRequest(JSON.stringify({ job: { status: "transcribed", secret: "s3cr3t" } })))).toThrow(/job\.id/);
    expect(() => provider.parse(webhookRequest("not json"))).toThrow(ProviderPayloadError);
  });

  it("authenticates only the job's echoed Bearer secret", () => {
    const provider = revAIProvider({ apiKey: "t" });
    const context = { isJobSecret: (candidate: string) => candidate === "job-secret" };
    expect(provider.authenticate(webhookRequest("{}", { headers: { authorization: "Bearer job-secret" } }), context)).toEqual({ ok: true });
    expect(provider.authenticate(webhookRequest("{}", { headers: { authorization: "Bearer other" } }), context).ok).toBe(false);
    expect(provider.authenticate(webhookRequest("{}", { headers: { authorization: "job-secret" } }), context).ok).toBe(false);
    expect(provider.authenticate(webhookRequest("{}"), context).ok).toBe(false);
  });

  it("submits source_config, notification_config with the Bearer secret, language, metadata and params, and reads the job id", async () => {
    const fake = await fakeRevAI({ "POST /speechtotext/v1/jobs": { body: await fixture("job-new.json") } });
    server = fake;
    const provider = revAIProvider({ apiKey: "token", baseUrl: fake.url, params: { skip_diarization: true } });
    const { jobId } = await provider.submit(
      { audioUrl: "https://audio.example/a.mp3", webhookUrl: "https://hooks.example/w/revai/r/t", webhookSecret: "per-job", language: "en", metadata: { id: 1 } },
      { idempotencyKey: "k" },
    );
    expect(jobId).toBe("Umx5c6F7pH7r");
    const [request] = fake.received;
    expect(request!.headers).toMatchObject({ authorization: "Bearer token", "content-type": "application/json" });
    expect(JSON.parse(request!.text)).toEqual({
      skip_diarization: true,
      source_config: { url: "https://audio.example/a.mp3" },
      notification_config: { url: "https://hooks.example/w/revai/r/t", auth_headers: { Authorization: "Bearer per-job" } },
      language: "en",
      metadata: '{"id":1}',
    });
  });

  it("fetches a transcribed job's details and transcript: words from text elements, text from every value", async () => {
    const fake = await fakeRevAI({
      "GET /speechtotext/v1/jobs/Umx5c6F7pH7r": { body: await fixture("job-transcribed.json") },
      "GET /speechtotext/v1/jobs/Umx5c6F7pH7r/transcript": { body: await fixture("transcript.json"), contentType: "application/vnd.rev.transcript.v1.0+json" },
    });
    server = fake;
    const event = await revAIProvider({ apiKey: "token", baseUrl: fake.url }).fetchResult!("Umx5c6F7pH7r");
    expect(fake.received[1]!.headers).toMatchObject({ accept: "application/vnd.rev.transcript.v1.0+json" });
    expect(event).toMatchObject({ jobId: "Umx5c6F7pH7r", status: "completed" });
    expect(event.result).toEqual({
      text: "Hello World.",
      words: [
        { text: "Hello", start: 0.5, end: 1.5, confidence: 1, speaker: "1" },
        { text: "World.", start: 1.75, end: 2.85, confidence: 0.8, speaker: "1" },
      ],
      language: "en",
      durationSec: 356.24,
    });
    expect(event.raw).toEqual({ job: JSON.parse(await fixture("job-transcribed.json")), transcript: JSON.parse(await fixture("transcript.json")) });
  });

  it("puts the spaces back between words when punctuation was skipped, and joins monologues", async () => {
    // The published example as skip_punctuation leaves it (no punct elements), plus a second
    // speaker whose word uses the older `ts_end` name and a null confidence.
    const published = JSON.parse(await fixture("transcript.json"));
    const words = published.monologues[0].elements.filter((element: { type: string }) => element.type === "text");
    const variant = { monologues: [{ speaker: 1, elements: words }, { speaker: 2, elements: [{ type: "text", value: "Hi", ts: 3, ts_end: 3.2, confidence: null }] }] };
    const fake = await fakeRevAI({
      "GET /speechtotext/v1/jobs/Umx5c6F7pH7r": { body: await fixture("job-transcribed.json") },
      "GET /speechtotext/v1/jobs/Umx5c6F7pH7r/transcript": { body: JSON.stringify(variant) },
    });
    server = fake;
    const event = await revAIProvider({ apiKey: "token", baseUrl: fake.url }).fetchResult!("Umx5c6F7pH7r");
    expect(event.result!.text).toBe("Hello World Hi");
    expect(event.result!.words[2]).toEqual({ text: "Hi", start: 3, end: 3.2, speaker: "2" });
  });

  it("refuses a transcript whose word has no times, naming the field", async () => {
    const fake = await fakeRevAI({
      "GET /speechtotext/v1/jobs/Umx5c6F7pH7r": { body: await fixture("job-transcribed.json") },
      "GET /speechtotext/v1/jobs/Umx5c6F7pH7r/transcript": { body: JSON.stringify({ monologues: [{ speaker: 0, elements: [{ type: "text", value: "secret words" }] }] }) },
    });
    server = fake;
    const error = await rejection(revAIProvider({ apiKey: "token", baseUrl: fake.url }).fetchResult!("Umx5c6F7pH7r"));
    expect(error).toBeInstanceOf(ProviderPayloadError);
    expect(error.message).toContain("monologues.0.elements.0: a text element needs ts and end_ts");
    expect(error.message).not.toContain("secret words");
  });

  it("fetches a failed job's failure_detail and an in-progress job's status without asking for a transcript", async () => {
    const fake = await fakeRevAI({
      "GET /speechtotext/v1/jobs/Umx5c6F7pH7r": { body: await fixture("job-failed.json") },
      "GET /speechtotext/v1/jobs/busy": { body: await fixture("job-new.json") },
    });
    server = fake;
    const provider = revAIProvider({ apiKey: "token", baseUrl: fake.url });
    expect(await provider.fetchResult!("Umx5c6F7pH7r")).toMatchObject({ status: "error", error: "Failed to download media file. Please check your url and file type" });
    expect(await provider.fetchResult!("busy")).toMatchObject({ jobId: "Umx5c6F7pH7r", status: "processing" });
    expect(requestLines(fake)).toEqual(["GET /speechtotext/v1/jobs/Umx5c6F7pH7r", "GET /speechtotext/v1/jobs/busy"]);
  });

  it("maps Rev.ai's problem bodies into SubmitError and FetchResultError messages", async () => {
    const fake = await fakeRevAI({
      "POST /speechtotext/v1/jobs": { status: 400, body: await fixture("error-400.json"), contentType: "application/problem+json" },
      "GET /speechtotext/v1/jobs/gone": { status: 404, body: await fixture("error-404.json"), contentType: "application/problem+json" },
      "GET /speechtotext/v1/jobs/early": { body: await fixture("job-transcribed.json") },
      "GET /speechtotext/v1/jobs/early/transcript": { status: 409, body: await fixture("error-409.json"), contentType: "application/problem+json" },
    });
    server = fake;
    const provider = revAIProvider({ apiKey: "token", baseUrl: fake.url, retry: { limit: 0 } });
    const submit = await rejection(provider.submit({ audioUrl: "https://a/b.wav", webhookUrl: "https://c/d", webhookSecret: "s" }, { idempotencyKey: "k" }));
    expect(submit).toBeInstanceOf(SubmitError);
    expect(submit.message).toBe("revai refused the submit with HTTP 400: Your request parameters didn't validate; media_url: The media_url field is required");
    const gone = await rejection(provider.fetchResult!("gone"));
    expect(gone).toBeInstanceOf(FetchResultError);
    expect(gone.message).toBe("Fetching job gone from revai failed with HTTP 404 (check baseUrl, or the job id): could not find job");
    const early = await rejection(provider.fetchResult!("early"));
    expect(early.message).toBe("Fetching job early from revai failed with HTTP 409: Job is in invalid state (Job is in progress or failed)");
  });
});
