import { join } from "node:path";
import { inspect } from "node:util";
import {
  ConfigurationError,
  FetchResultError,
  type Provider,
  ProviderPayloadError,
  SubmitError,
  TranscriptionTimeoutError,
  assemblyAIProvider,
} from "hookscribe";
import type { DevProvider } from "hookscribe/dev";
import { afterEach, describe, expect, it } from "vitest";
import { WEBHOOK_SECRET_HEADER } from "../../src/providers/assemblyai.js";
import { type Harness, SAMPLE_TEXT, freePort, harness, rejection, until } from "../helpers.js";
import { type TestServer, collect, dialectHarness, fastAdapter, fixtures, postWebhook, recordingSecrets, testServer, transcribeNoting, transcriptionFailure, webhookRequest } from "./provider-test-kit.js";

/*
 * assemblyAIProvider end to end against the emulator's "assemblyai" dialect (real receiver, real
 * HTTP, a store in a temp dir), then its wire mapping against AssemblyAI's published examples.
 */

let h: Harness;
afterEach(async () => h?.cleanup());

const adapter = fastAdapter(assemblyAIProvider);
const aaiHarness = dialectHarness("assemblyai", adapter);
const fixture = fixtures("assemblyai");

/** What the emulator reports for a transcript, asked the way AssemblyAI is asked (counts as a status fetch). */
async function emulatorTranscript(dev: DevProvider, transcriptId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${dev.url}/v2/transcript/${transcriptId}`, { headers: { authorization: dev.apiKey } });
  return (await response.json()) as Record<string, unknown>;
}

describe("assemblyAIProvider against the assemblyai dialect", () => {
  it("round trip: thin webhook, one fetch, words from ms to seconds, the language sent as language_code", async () => {
    h = await aaiHarness();
    const { jobId, transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/call.wav", { language: "en-US", metadata: { customer: "42" } });

    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(transcript).toMatchObject({ jobId, provider: "assemblyai", status: "completed", text: SAMPLE_TEXT, language: "en_us", durationSec: 3.6 });
    expect(transcript.words).toHaveLength(9);
    expect(transcript.words[0]).toEqual({ text: "the", start: 0, end: 0.4, confidence: 1 });
    expect(transcript.words[8]).toEqual({ text: "dog", start: 3.2, end: 3.6, confidence: 1 });
    // raw is AssemblyAI's own transcript: times in ms.
    expect(transcript.raw).toMatchObject({ id: jobId, status: "completed", words: expect.arrayContaining([expect.objectContaining({ text: "dog", start: 3200, end: 3600 })]) });
    // AssemblyAI sends no "processing" webhook; the only one is thin, so the result is fetched once.
    expect(statuses).toEqual(["queued", "completed"]);
    expect(h.dev.stats).toMatchObject({ submits: 1, statusFetches: 1, webhooksDelivered: 1 });

    // What the emulator received: hookscribe's fields, the default model, the echoed header's name (its value is never returned).
    const received = await emulatorTranscript(h.dev, jobId);
    expect(received).toMatchObject({
      audio_url: "https://audio.example/call.wav",
      speech_models: ["universal-2"],
      language_code: "en_us",
      webhook_auth: true,
      webhook_auth_header_name: WEBHOOK_SECRET_HEADER,
    });
    expect(received.webhook_url).toBe(h.dev.job(jobId)!.webhookUrl);
    expect(received).not.toHaveProperty("webhook_auth_header_value");
    // AssemblyAI has no field for metadata: it is not sent, in the body or the webhook URL.
    expect(JSON.stringify(received)).not.toContain("customer");
  });

  it("sends params with the submit and maps speaker labels and confidences", async () => {
    h = await aaiHarness(
      {
        engine: async () => ({
          text: "Hi. Hello.",
          words: [
            { text: "Hi.", start: 0.25, end: 0.65, confidence: 0.97465, speaker: "A" },
            { text: "Hello.", start: 1.076, end: 1.418, confidence: 0.84, speaker: "B" },
          ],
          durationSec: 2,
        }),
      },
      (dev) => adapter(dev, { params: { speech_models: ["universal-3-5-pro", "universal-2"], speaker_labels: true, multichannel: false } }),
    );
    const transcript = await h.client.transcribe("https://audio.example/two-speakers.wav");
    expect(transcript.words).toEqual([
      { text: "Hi.", start: 0.25, end: 0.65, confidence: 0.97465, speaker: "A" },
      { text: "Hello.", start: 1.076, end: 1.418, confidence: 0.84, speaker: "B" },
    ]);
    expect(transcript.durationSec).toBe(2);
    // No language given: AssemblyAI assumes en_us.
    expect(transcript.language).toBe("en_us");
    expect(await emulatorTranscript(h.dev, transcript.jobId)).toMatchObject({
      speech_models: ["universal-3-5-pro", "universal-2"],
      speaker_labels: true,
      multichannel: false,
    });
  });

  it("fetches a thin delivery's result exactly once however often it arrives", async () => {
    h = await aaiHarness({ faults: { duplicateDeliveries: 3 } });
    const events = collect(h.client);
    const transcript = await h.client.transcribe("https://audio.example/dup.wav");
    await until(() => h.dev.stats.webhooksDelivered === 4);
    expect(events.map((t) => t.jobId)).toEqual([transcript.jobId]);
    expect(h.dev.stats.statusFetches).toBe(1);
  });

  it("rejects with TranscriptionError carrying AssemblyAI's failure message, fetched once", async () => {
    h = await aaiHarness({ faults: { errorResult: true } });
    const { jobId, error } = await transcriptionFailure(h.client, "https://audio.example/broken.wav");
    expect(error.message).toContain("Simulated failure: the dev provider's faults.errorResult is set");
    expect(h.dev.stats.statusFetches).toBe(1);
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "error", error: expect.stringContaining("Simulated failure") });
  });

  it("refuses forged deliveries with 401 and stores nothing: a wrong URL token, no or a wrong echoed secret", async () => {
    h = await aaiHarness({ processingDelayMs: 400 });
    const job = h.client.transcribe("https://audio.example/forged.wav");
    const jobId = await job.submitted;
    const url = h.dev.job(jobId)!.webhookUrl!;
    const body = { transcript_id: jobId, status: "completed" };
    const wrongToken = url.replace(/[^/]+$/, "A".repeat(32));

    expect((await postWebhook(wrongToken, body, { [WEBHOOK_SECRET_HEADER]: "whatever" })).status).toBe(401);
    expect((await postWebhook(url, body)).status).toBe(401);
    expect((await postWebhook(url, body, { [WEBHOOK_SECRET_HEADER]: "not-the-job-secret" })).status).toBe(401);
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "queued", processed: false });
    expect(h.dev.stats.statusFetches).toBe(0);

    // The real webhook still gets through.
    expect((await job).text).toBe(SAMPLE_TEXT);
  });

  it("a stale status after the terminal one, and a redacted-audio notification, are answered 200 and change nothing", async () => {
    const secrets: string[] = [];
    h = await aaiHarness({}, (dev) => recordingSecrets(adapter(dev), secrets));
    const events = collect(h.client);
    const { transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/ooo.wav");
    // The stale "processing" the fault asks for is one AssemblyAI never sends.
    expect(statuses).toEqual(["queued", "completed"]);
    const url = h.dev.job(transcript.jobId)!.webhookUrl!;
    const auth = { [WEBHOOK_SECRET_HEADER]: secrets[0]! };

    expect((await postWebhook(url, { transcript_id: transcript.jobId, status: "error" }, auth)).status).toBe(200);
    const redacted = await fixture.json("webhook-redacted-audio.json");
    expect((await postWebhook(url, redacted, auth)).status).toBe(200);
    expect(h.logs.some((entry) => entry.msg?.includes("acknowledged and ignored"))).toBe(true);

    expect(await h.client.inspect(transcript.jobId)).toMatchObject({ status: "completed", processed: true, transcript: { text: SAMPLE_TEXT } });
    expect(events).toHaveLength(1);
    expect(h.dev.stats.statusFetches).toBe(1);
  });

  it("resolves when the webhook arrives before the submit's answer", async () => {
    h = await aaiHarness({ faults: { webhookBeforeSubmitResponse: true } });
    const { transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/early.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(statuses).not.toContain("queued");
  });

  it("a restart between submit and webhook: AssemblyAI's retry reaches the next process, which fetches once", async () => {
    const port = await freePort();
    h = await harness({
      dev: { dialect: "assemblyai", processingDelayMs: 200, retryDelaysMs: [50, 100, 200, 400, 800] },
      client: { receiver: { port } },
      provider: adapter,
    });
    const jobId = await h.client.transcribe("https://audio.example/restart.wav").submitted;
    await h.client.close();
    await until(() => h.dev.job(jobId)?.deliveries.completed?.lastError !== undefined);

    const next = h.restart();
    await next.start();
    const transcript = await next.job(jobId);
    expect(transcript).toMatchObject({ jobId, text: SAMPLE_TEXT, provider: "assemblyai" });
    expect(h.dev.job(jobId)!.deliveries.completed).toMatchObject({ state: "delivered" });
    expect(h.dev.job(jobId)!.deliveries.completed!.attempts).toBeGreaterThan(1);
    expect(h.dev.stats.statusFetches).toBe(1);
  });

  it("at the deadline asks GET /v2/transcript/{id} once; the late webhook still resolves client.job(id)", async () => {
    h = await aaiHarness({ processingDelayMs: 400 });
    // Started first: the deadline counts from the call and includes opening the store (slower on
    // PostgreSQL); these 100 ms are for the job.
    await h.client.start();
    const error = await rejection(h.client.transcribe("https://audio.example/slow.wav", { timeoutMs: 100 }));
    expect(error).toBeInstanceOf(TranscriptionTimeoutError);
    expect(h.dev.stats.statusFetches).toBe(1);
    const late = await h.client.job((error as TranscriptionTimeoutError).jobId!);
    expect(late.text).toBe(SAMPLE_TEXT);
  });

  it("a 4xx answer to a webhook is final: AssemblyAI does not retry it", async () => {
    const port = await freePort();
    h = await harness({
      dev: { dialect: "assemblyai", processingDelayMs: 300, retryDelaysMs: [20, 20, 20] },
      client: { receiver: { port } },
      provider: adapter,
    });
    const jobId = await h.client.transcribe("https://audio.example/elsewhere.wav").submitted;
    await h.client.close();
    // A process on the same port with another store does not know the job: 401.
    const stranger = h.restart({ storePath: join(h.dir, "other-store.json") });
    await stranger.start();
    await until(() => h.dev.job(jobId)?.deliveries.completed?.state === "failed");
    expect(h.dev.job(jobId)!.deliveries.completed).toMatchObject({ attempts: 1, lastError: "HTTP 401" });
  });
});

describe("the assemblyai dialect's API", () => {
  it("answers a wrong key 401 with AssemblyAI's message, which the SubmitError carries (never the key)", async () => {
    h = await aaiHarness();
    const client = h.restart({ provider: adapter(h.dev, { apiKey: "wrong-key" }) });
    const error = await rejection(client.transcribe("https://audio.example/x.wav"));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error).toMatchObject({ status: 401, providerMessage: "Authentication error, API token missing/invalid" });
    expect(inspect(error, { depth: 10 })).not.toContain("wrong-key");
    expect(h.dev.stats.submits).toBe(1);
  });

  it("answers a submit without audio_url or speech_models, or with the retired speech_model, 400 {error}", async () => {
    h = await aaiHarness();
    const submit = (body: unknown) =>
      fetch(`${h.dev.url}/v2/transcript`, { method: "POST", headers: { authorization: h.dev.apiKey, "content-type": "application/json" }, body: JSON.stringify(body) });
    const noAudio = await submit({ speech_models: ["universal-2"] });
    expect(noAudio.status).toBe(400);
    expect(await noAudio.json()).toEqual({ error: expect.stringContaining("audio_url") });
    const noModels = await submit({ audio_url: "https://audio.example/a.wav" });
    expect(noModels.status).toBe(400);
    expect(await noModels.json()).toEqual({ error: expect.stringContaining("speech_models") });
    expect((await fetch(`${h.dev.url}/v2/transcript/nope`, { headers: { authorization: h.dev.apiKey } })).status).toBe(404);

    const client = h.restart({ provider: adapter(h.dev, { params: { speech_model: "best" } }) });
    const error = await rejection(client.transcribe("https://audio.example/old.wav"));
    expect(error).toBeInstanceOf(SubmitError);
    expect(error).toMatchObject({ status: 400, providerMessage: expect.stringMatching(/^speech_model is deprecated/) });
  });
});

describe("assemblyAIProvider options", () => {
  it("defaults to AssemblyAI's US host; region eu picks the EU host", () => {
    expect(assemblyAIProvider({ apiKey: "k" }).baseUrl).toBe("https://api.assemblyai.com");
    expect(assemblyAIProvider({ apiKey: "k", region: "eu" }).baseUrl).toBe("https://api.eu.assemblyai.com");
    expect(assemblyAIProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:1" }).name).toBe("assemblyai");
  });

  it("throws a ConfigurationError naming an unknown key, region with baseUrl, a missing key, or a param hookscribe sets", () => {
    const attempt = (options: unknown) => () => assemblyAIProvider(options as Parameters<typeof assemblyAIProvider>[0]);
    expect(attempt({ apiKey: "k", regoin: "eu" })).toThrow(ConfigurationError);
    expect(attempt({ apiKey: "k", regoin: "eu" })).toThrow(/regoin: unknown option \(did you mean "region"\?\)/);
    expect(attempt({ apiKey: "k", region: "eu", baseUrl: "https://proxy.example" })).toThrow(/region or baseUrl, not both/);
    expect(attempt({ apiKey: "k", region: "ap" })).toThrow(/region: must be one of "us", "eu"/);
    expect(attempt({})).toThrow(/apiKey: required/);
    expect(attempt({ apiKey: "k", params: { webhook_url: "https://evil.example", language_code: "de" } })).toThrow(
      /params\.webhook_url: set by hookscribe \(the job's own webhook URL\).*params\.language_code: set by hookscribe \(transcribe\(\)'s language option\)/,
    );
    expect(attempt({ apiKey: "k", params: { webhook_auth_header_value: "x" } })).toThrow(ConfigurationError);
    expect(attempt({ apiKey: "k", params: { speech_models: [] } })).toThrow(/params\.speech_models/);
  });
});

describe("wire mapping against AssemblyAI's published examples", () => {
  const provider = assemblyAIProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:1" });
  const webhook = async (name: string) => webhookRequest(await fixture.bytes(name));

  it("a transcript-ready webhook is a thin event; the redacted-audio one is ignored", async () => {
    expect(provider.parse(await webhook("webhook-transcript-ready.json"))).toEqual({
      jobId: "9ea68fd3-f953-42c1-9742-976c447fb463",
      status: "completed",
      raw: { transcript_id: "9ea68fd3-f953-42c1-9742-976c447fb463", status: "completed" },
    });
    expect(provider.parse(await webhook("webhook-redacted-audio.json"))).toBeNull();
  });

  it("a webhook that does not fit is a ProviderPayloadError naming the field, never its content", () => {
    const parse = (body: string) => () => provider.parse(webhookRequest(body));
    expect(parse('{"status":"completed","transcript":"secret words"}')).toThrow(ProviderPayloadError);
    expect(parse('{"status":"completed","transcript":"secret words"}')).toThrow(/transcript_id/);
    expect(parse('{"status":"completed","transcript":"secret words"}')).not.toThrow(/secret words/);
    expect(parse('{"transcript_id":"t","status":"finished"}')).toThrow(/status/);
    expect(parse("not json")).toThrow(ProviderPayloadError);
  });

  it("authenticates by the echoed header only when it holds the job's secret", () => {
    const context = { isJobSecret: (candidate: string) => candidate === "job-secret" };
    const request = (headers: Record<string, string>) => webhookRequest("{}", { headers });
    expect(provider.authenticate(request({ "x-hookscribe-secret": "job-secret" }), context)).toEqual({ ok: true });
    expect(provider.authenticate(request({ "x-hookscribe-secret": "other" }), context)).toMatchObject({ ok: false });
    expect(provider.authenticate(request({}), context)).toMatchObject({ ok: false, reason: expect.stringContaining("missing") });
    expect(provider.acceptsContentType("application/json")).toBe(true);
    expect(provider.acceptsContentType("text/plain")).toBe(false);
  });

  describe("GET /v2/transcript/{id} answered with the examples", () => {
    let server: TestServer;
    let fixtureProvider: Provider;
    afterEach(() => server.close());

    async function serveFixtures(): Promise<void> {
      server = await testServer(async ({ headers, url }) => {
        const name =
          headers.authorization !== "fixture-key"
            ? "error-unauthorized.json"
            : url === "/v2/transcript/9ea68fd3-f953-42c1-9742-976c447fb463"
              ? "transcript-completed.json"
              : "transcript-error.json";
        return { status: name.startsWith("error") ? 401 : 200, body: await fixture.bytes(name) };
      });
      fixtureProvider = assemblyAIProvider({ apiKey: "fixture-key", baseUrl: server.url, retry: { limit: 0 } });
    }

    it("a completed transcript: text, words in seconds, confidence, language, duration, raw without the webhook URL (it holds the job's token)", async () => {
      await serveFixtures();
      const event = await fixtureProvider.fetchResult!("9ea68fd3-f953-42c1-9742-976c447fb463");
      const published = await fixture.json("transcript-completed.json");
      expect(event).toMatchObject({ jobId: "9ea68fd3-f953-42c1-9742-976c447fb463", status: "completed" });
      expect(event.result).toMatchObject({
        text: "Smoke from hundreds of wildfires in Canada is triggering air quality alerts throughout the US.",
        language: "en_us",
        durationSec: 281,
      });
      expect(event.result!.words).toHaveLength(15);
      // The example's words have speaker null (diarized labels are in its utterances): no speaker.
      expect(event.result!.words[0]).toEqual({ text: "Smoke", start: 0.25, end: 0.65, confidence: 0.97465 });
      expect(event.result!.words[14]).toEqual({ text: "US.", start: 5.732, end: 6.382, confidence: 0.89 });
      const { webhook_url: _webhookUrl, ...withoutWebhookUrl } = published;
      expect(event.raw).toEqual(withoutWebhookUrl);
    });

    it("a failed transcript carries AssemblyAI's error text; a refused key is a FetchResultError with its message", async () => {
      await serveFixtures();
      const failed = await fixtureProvider.fetchResult!("ce522f10-d204-42e8-a838-6b95098145cc");
      expect(failed).toMatchObject({ jobId: "ce522f10-d204-42e8-a838-6b95098145cc", status: "error", error: expect.stringMatching(/^Download error, unable to download/) });
      expect(failed.result).toBeUndefined();

      const refused = assemblyAIProvider({ apiKey: "stolen-key", baseUrl: fixtureProvider.baseUrl, retry: { limit: 0 } });
      const error = await rejection(refused.fetchResult!("9ea68fd3-f953-42c1-9742-976c447fb463"));
      expect(error).toBeInstanceOf(FetchResultError);
      expect(error).toMatchObject({ status: 401, message: expect.stringContaining("Authentication error, API token missing/invalid") });
      expect(error.message).toContain("check apiKey");
      expect(inspect(error, { depth: 10 })).not.toContain("stolen-key");
    });
  });
});
