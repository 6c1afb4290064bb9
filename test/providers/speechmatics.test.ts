import {
  ConfigurationError,
  type Provider,
  ProviderPayloadError,
  type Transcript,
  TranscriptionError,
  type WebhookRequest,
  speechmaticsProvider,
} from "hookscribe";
import { fixedTextEngine } from "hookscribe/dev";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, freePort, rejection, until } from "../helpers.js";
import { type TestServer, collect, dialectHarness, fastAdapter, fixtures, postWebhook, recordingSecrets, testServer, thrown, transcribeNoting, transcriptionFailure, webhookRequest } from "./provider-test-kit.js";

/*
 * speechmaticsProvider end to end against the emulator's "speechmatics" dialect (real receiver,
 * real HTTP, a store in a temp dir), then its wire mapping against Speechmatics' published examples.
 */

let h: Harness;
afterEach(async () => h?.cleanup());

const PUNCTUATED = "Hello from hookscribe. It works!";

const adapter = fastAdapter(speechmaticsProvider);
const smHarness = dialectHarness("speechmatics", adapter);

/** A notification as Speechmatics sends it: the job id and outcome in the query string. */
function notify(url: string, query: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return postWebhook(`${url}?${query}`, body, headers);
}

describe("speechmaticsProvider against the speechmatics dialect", () => {
  it("round trip: the json-v2 transcript in the notification, no fetch, words in seconds, punctuation attached", async () => {
    h = await smHarness({ engine: fixedTextEngine(PUNCTUATED) });
    const { jobId, transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/call.wav", { language: "en" });

    expect(jobId).toMatch(/^[a-z0-9]{10}$/);
    expect(transcript).toMatchObject({ jobId, provider: "speechmatics", status: "completed", text: PUNCTUATED, language: "en", durationSec: 2 });
    // Words in their written form: captions keep the punctuation and end cues at sentence ends.
    expect(transcript.words.map((w) => w.text)).toEqual(["Hello", "from", "hookscribe.", "It", "works!"]);
    // fixedTextEngine spaces words 0.4 s apart; Speechmatics' "UU" (unknown speaker) is no speaker.
    expect(transcript.words[0]).toEqual({ text: "Hello", start: 0, end: 0.4, confidence: 1 });
    expect(transcript.words[4]).toEqual({ text: "works!", start: 1.6, end: 2, confidence: 1 });
    // Speechmatics announces no processing: queued after the submit, then the end.
    expect(statuses).toEqual(["queued", "completed"]);
    expect(h.dev.stats.submits).toBe(1);
    expect(h.dev.stats.statusFetches).toBe(0);
    const raw = transcript.raw as { format: string; job: { id: string }; results: { type: string }[] };
    expect(raw).toMatchObject({ format: "2.9", job: { id: jobId } });
    expect(raw.results.filter((item) => item.type === "punctuation")).toHaveLength(2);
  });

  it("maps language and metadata, merges params, and lets Speechmatics identify the language when none is given", async () => {
    h = await smHarness({}, (dev) =>
      adapter(dev, { params: { transcription_config: { operating_point: "enhanced" }, tracking: { title: "Weekly call" } } }),
    );
    const german = await h.client.transcribe("https://audio.example/de.wav", { language: "de", metadata: { customer: "c-42" } });
    expect(german.language).toBe("de");
    const raw = german.raw as { job: { tracking: unknown }; metadata: { transcription_config: unknown } };
    expect(raw.job.tracking).toEqual({ title: "Weekly call", details: { customer: "c-42" } });
    expect(raw.metadata.transcription_config).toEqual({ operating_point: "enhanced", language: "de" });

    const identified = await h.client.transcribe("https://audio.example/any.wav");
    // The emulator identifies English; the adapter reads it off the first word.
    expect(identified.language).toBe("en");
    expect((identified.raw as { metadata: { transcription_config: { language: string } } }).metadata.transcription_config.language).toBe("auto");
    expect((identified.raw as { job: { tracking?: unknown } }).job.tracking).toEqual({ title: "Weekly call" });
  });

  it("fetches the transcript once when the notification carries none, however often it comes", async () => {
    h = await smHarness({ faults: { thinPayloads: true, duplicateDeliveries: 2 } });
    const transcript = await h.client.transcribe("https://audio.example/thin.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(transcript.words).toHaveLength(9);
    await until(() => h.dev.stats.webhooksDelivered === 3);
    // GET /v2/jobs/{id}, then GET /v2/jobs/{id}/transcript, once each.
    expect(h.dev.stats.statusFetches).toBe(2);
  });

  it("a rejected job fails with Speechmatics' own message, fetched from the job's errors", async () => {
    h = await smHarness({ faults: { errorResult: true } });
    const events = collect(h.client);
    const { jobId, error } = await transcriptionFailure(h.client, "https://audio.example/broken.wav");
    expect(error.message).toContain("Simulated failure");
    expect(h.dev.stats.statusFetches).toBe(1);
    expect(events).toEqual([]);
    await expect(h.client.job(jobId)).rejects.toThrow(/Simulated failure/);
  });

  it("refuses forged notifications with 401 and stores nothing from them", async () => {
    const secrets: string[] = [];
    h = await smHarness({ processingDelayMs: 5000 }, (dev) => recordingSecrets(adapter(dev), secrets));
    const job = h.client.transcribe("https://audio.example/forged.wav");
    const jobId = await job.submitted;
    const url = h.dev.job(jobId)!.webhookUrl!;
    const query = `id=${jobId}&status=error`;

    const wrongToken = url.replace(/\/[^/]+$/, "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect((await notify(wrongToken, query, {}, { authorization: `Bearer ${secrets[0]}` })).status).toBe(401);
    expect((await notify(url, query, {})).status).toBe(401);
    expect((await notify(url, query, {}, { authorization: "Bearer not-the-secret" })).status).toBe(401);
    expect((await notify(url, query, {}, { authorization: `Bearer ${h.dev.apiKey}` })).status).toBe(401);
    expect((await notify(url, query, {}, { authorization: secrets[0]! })).status).toBe(401);

    expect(await h.client.inspect(jobId)).toMatchObject({ status: "queued", processed: false });
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("answers a notification without a valid query string 400", async () => {
    const secrets: string[] = [];
    h = await smHarness({ processingDelayMs: 5000 }, (dev) => recordingSecrets(adapter(dev), secrets));
    const jobId = await h.client.transcribe("https://audio.example/query.wav").submitted;
    const url = h.dev.job(jobId)!.webhookUrl!;
    const auth = { authorization: `Bearer ${secrets[0]}` };
    const missing = await notify(url, "", {}, auth);
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/id.*status|status.*id/s);
    expect((await notify(url, `id=${jobId}&status=finished`, {}, auth)).status).toBe(400);
    expect((await notify(url, `id=other12345&status=error`, {}, auth)).status).toBe(400);
    expect(await h.client.inspect(jobId)).toMatchObject({ status: "queued" });
  });

  it("duplicates, an out-of-order stale failure and a redelivery change nothing after the end", async () => {
    const secrets: string[] = [];
    h = await smHarness({ faults: { duplicateDeliveries: 2 } }, (dev) => recordingSecrets(adapter(dev), secrets));
    const events = collect(h.client);
    const { transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/dup.wav");
    await until(() => h.dev.stats.webhooksDelivered === 3);
    // outOfOrder has no stale processing notification to send: Speechmatics never sends one.
    expect(h.dev.stats.webhooksSent).toBe(3);

    const url = h.dev.job(transcript.jobId)!.webhookUrl!;
    const stale = await notify(url, `id=${transcript.jobId}&status=error`, {}, { authorization: `Bearer ${secrets[0]}` });
    expect(stale.status).toBe(200);
    await h.dev.redeliver(transcript.jobId);
    expect(h.dev.job(transcript.jobId)!.deliveries.completed!.state).toBe("delivered");

    expect(await h.client.job(transcript.jobId)).toMatchObject({ text: SAMPLE_TEXT, status: "completed" });
    expect(statuses).toEqual(["queued", "completed"]);
    expect(events.map((t) => t.jobId)).toEqual([transcript.jobId]);
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("resolves when the notification arrives before the submit's answer", async () => {
    h = await smHarness({ faults: { webhookBeforeSubmitResponse: true } });
    const { transcript, statuses } = await transcribeNoting(h.client, "https://audio.example/early.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(statuses).not.toContain("queued");
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("a job submitted before a restart resolves from the notification the next process receives", async () => {
    const port = await freePort();
    h = await smHarness({ processingDelayMs: 300, retryDelaysMs: [50, 100, 200, 400, 800] }, adapter, { receiver: { port } });
    const jobA = h.client.transcribe("https://audio.example/restart.wav");
    const jobId = await jobA.submitted;
    await h.client.close();
    await expect(jobA).rejects.toMatchObject({ name: "AbortError" });
    // Nothing listens: Speechmatics retries, and records the failed attempt on the job.
    await until(() => h.dev.job(jobId)?.deliveries.completed?.lastError !== undefined);

    const b = h.restart();
    const events: Transcript[] = [];
    b.on("transcript", (t) => events.push(t));
    await b.start();
    const transcript = await b.job(jobId);
    expect(transcript).toMatchObject({ jobId, text: SAMPLE_TEXT });
    expect(events.map((t) => t.jobId)).toEqual([jobId]);
    expect(h.dev.stats.statusFetches).toBe(0);
  });

  it("after a restart, a failure's message is the job's own, not the failed notification attempts it lists after it", async () => {
    const port = await freePort();
    h = await smHarness({ processingDelayMs: 100, retryDelaysMs: [50, 100, 200, 400, 800], faults: { errorResult: true } }, adapter, { receiver: { port } });
    const jobA = h.client.transcribe("https://audio.example/broken-restart.wav");
    const jobId = await jobA.submitted;
    await h.client.close();
    await until(() => h.dev.job(jobId)?.deliveries.error?.lastError !== undefined);

    const b = h.restart();
    await b.start();
    const error = await rejection(b.job(jobId));
    expect(error).toBeInstanceOf(TranscriptionError);
    expect(error.message).toContain("Simulated failure");
    expect(error.message).not.toMatch(/notification/i);
  });

  it("at the deadline, the one status check finds the finished job and fetches its transcript", async () => {
    // The notifications go to a port nothing listens on: only the status check can tell.
    const lost = `http://127.0.0.1:${await freePort()}`;
    h = await smHarness({ processingDelayMs: 20, retryDelaysMs: [] }, adapter, { receiver: { port: 0, publicUrl: lost } });
    const transcript = await h.client.transcribe("https://audio.example/lost.wav", { timeoutMs: 400 });
    expect(transcript.text).toBe(SAMPLE_TEXT);
    // The job's details, then its transcript.
    expect(h.dev.stats.statusFetches).toBe(2);
  });
});

describe("speechmaticsProvider options", () => {
  const apiKey = "sm-secret-key";

  it("uses the global host, or the region's", () => {
    expect(speechmaticsProvider({ apiKey }).baseUrl).toBe("https://asr.api.speechmatics.com");
    expect(speechmaticsProvider({ apiKey, region: "eu1" }).baseUrl).toBe("https://eu1.asr.api.speechmatics.com");
    expect(speechmaticsProvider({ apiKey, region: "au1" }).baseUrl).toBe("https://au1.asr.api.speechmatics.com");
    expect(speechmaticsProvider({ apiKey, baseUrl: "http://127.0.0.1:8788" }).baseUrl).toBe("http://127.0.0.1:8788");
  });

  it("refuses an unknown key, region with baseUrl, a bad region, a missing apiKey", () => {
    expect(() => speechmaticsProvider({ apiKey, regoin: "eu1" } as never)).toThrow(/regoin: unknown option \(did you mean "region"\?\)/);
    expect(() => speechmaticsProvider({ apiKey, region: "eu1", baseUrl: "https://eu1.asr.api.speechmatics.com" })).toThrow(
      /baseUrl: give region or baseUrl, not both/,
    );
    expect(() => speechmaticsProvider({ apiKey, region: "eu" as never })).toThrow(/region: must be one of "eu1", "eu2", "us1", "us2", "au1"/);
    expect(() => speechmaticsProvider({} as never)).toThrow(ConfigurationError);
  });

  it("refuses params that would override what hookscribe sets, naming each", () => {
    const attempt = () =>
      speechmaticsProvider({
        apiKey,
        params: {
          notification_config: [],
          fetch_data: { url: "https://elsewhere.example/a.wav" },
          transcription_config: { language: "fr", operating_point: "enhanced" },
          tracking: { details: { mine: true } },
        },
      });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/params\.notification_config: set by hookscribe/);
    expect(attempt).toThrow(/params\.fetch_data: set by hookscribe/);
    expect(attempt).toThrow(/params\.transcription_config\.language: set by hookscribe \(transcribe\(\)'s language option/);
    expect(attempt).toThrow(/params\.tracking\.details: set by hookscribe \(transcribe\(\)'s metadata option\)/);
    expect(() => speechmaticsProvider({ apiKey, params: { transcription_config: { operating_point: "best" as never } } })).toThrow(
      /params\.transcription_config\.operating_point: must be one of "standard", "enhanced"/,
    );
  });

  it("never shows the API key in an options error", () => {
    expect(thrown(() => speechmaticsProvider({ apiKey, region: "eu1", baseUrl: "https://x.example" })).message).not.toContain(apiKey);
  });
});

/** The published examples, by file name. */
const fixture = fixtures("speechmatics").bytes;

/** A notification with the job id and outcome in `query`. */
function notification(query: string, rawBody: Buffer, contentType = "application/json"): WebhookRequest {
  return webhookRequest(rawBody, { query, contentType });
}

describe("Speechmatics wire mapping, against published examples", () => {
  const provider = speechmaticsProvider({ apiKey: "k" });

  it("reads the docs' json-v2 transcript: words in seconds, UU as no speaker, punctuation attached, duration", async () => {
    const event = provider.parse(notification("id=650krlru2e&status=success", await fixture("transcript-response-example.json")));
    expect(event).toMatchObject({ jobId: "650krlru2e", status: "completed" });
    expect(event!.result).toMatchObject({ text: "Welcome to Speechmatics. Thank you.", language: "en", durationSec: 15 });
    expect(event!.result!.words).toEqual([
      { text: "Welcome", start: 0.72, end: 1.36, confidence: 1 },
      { text: "to", start: 1.36, end: 1.44, confidence: 1 },
      { text: "Speechmatics.", start: 1.48, end: 2.44, confidence: 0.98 },
      { text: "Thank", start: 14.8, end: 15.08, confidence: 1 },
      { text: "you.", start: 15.08, end: 15.4, confidence: 1 },
    ]);
    expect((event!.raw as { format: string }).format).toBe("2.9");
  });

  it("reads the API reference's example: channel labels, tracking, punctuation without attaches_to", async () => {
    const event = provider.parse(notification("id=a1b2c3d4e5&status=success", await fixture("api-reference-transcript-example.json")));
    expect(event!.result).toMatchObject({ text: "Hello world.", language: "en", durationSec: 244 });
    expect(event!.result!.words).toEqual([
      { text: "Hello", start: 0.55, end: 1.2, confidence: 0.95 },
      { text: "world.", start: 1.45, end: 1.8, confidence: 0.76 },
    ]);
  });

  it("takes an identified language from the first word when the job asked for auto", async () => {
    const event = provider.parse(notification("id=8eef82kaaa&status=success", await fixture("language-identification-transcript.json")));
    expect(event!.result).toMatchObject({ text: "It", language: "en" });
  });

  it("attaches punctuation as attaches_to says: previous, next, both, none", () => {
    const item = (type: string, content: string, attaches_to?: string) => ({
      type,
      start_time: 1,
      end_time: 1,
      attaches_to,
      alternatives: [{ content, confidence: 1, language: "en" }],
    });
    const body = {
      job: { id: "j1" },
      results: [
        item("word", "He"),
        item("word", "said"),
        item("punctuation", "\u201C", "next"),
        item("word", "well"),
        item("punctuation", "-", "both"),
        item("word", "known"),
        item("punctuation", "\u201D"),
        item("punctuation", "&", "none"),
        item("entity", "$10"),
        item("punctuation", "."),
      ],
    };
    const event = provider.parse(notification("id=j1&status=success", Buffer.from(JSON.stringify(body))));
    expect(event!.result!.text).toBe("He said \u201Cwell-known\u201D & $10.");
    expect(event!.result!.words.map((w) => w.text)).toEqual(["He", "said", "\u201Cwell-", "known\u201D", "$10."]);
  });

  it("a notification without the transcript is thin: empty, jobinfo, text or multipart", async () => {
    const jobInfo = Buffer.from(JSON.stringify(JSON.parse((await fixture("transcript-response-example.json")).toString()).job));
    const thin = { jobId: "650krlru2e", status: "completed" };
    expect(provider.parse(webhookRequest(Buffer.alloc(0), { query: "id=650krlru2e&status=success", contentType: undefined }))).toMatchObject(thin);
    expect(provider.parse(notification("id=650krlru2e&status=success", Buffer.alloc(0)))).toMatchObject(thin);
    expect(provider.parse(notification("id=650krlru2e&status=success", jobInfo))).toMatchObject(thin);
    expect(provider.parse(notification("id=650krlru2e&status=success", Buffer.from("Welcome to Speechmatics."), "text/plain"))).toMatchObject(thin);
    expect(provider.parse(notification("id=650krlru2e&status=success", Buffer.from("--b\r\n\r\n--b--\r\n"), "multipart/form-data"))).toMatchObject(thin);
    for (const status of ["error", "fetch_error", "trim_error"]) {
      const event = provider.parse(notification(`id=650krlru2e&status=${status}`, jobInfo));
      expect(event).toEqual({ jobId: "650krlru2e", status: "error", raw: { id: "650krlru2e", status } });
    }
  });

  it("refuses a notification whose query or transcript does not fit, naming the field", async () => {
    const transcript = await fixture("transcript-response-example.json");
    expect(() => provider.parse(notification("status=success", transcript))).toThrow(ProviderPayloadError);
    expect(() => provider.parse(notification("id=650krlru2e&status=done", transcript))).toThrow(/status/);
    expect(() => provider.parse(notification("id=someoneelse&status=success", transcript))).toThrow(/another job/);
    expect(() => provider.parse(notification("id=j&status=success", Buffer.from('{"job":{"id":"j"},"results":[{"type":"word"}]}')))).toThrow(
      /results\.0\.start_time/,
    );
    // A body that is not JSON is not the transcript asked for: thin, fetched instead.
    const notJson = provider.parse(notification("id=j&status=success", Buffer.from("{not json")));
    expect(notJson).toMatchObject({ jobId: "j", status: "completed" });
    expect(notJson!.result).toBeUndefined();
  });

  it("accepts any media type: the outcome is in the query string, and the body is read only if it is the transcript", () => {
    for (const type of [undefined, "application/json", "text/plain", "multipart/form-data", "application/octet-stream"]) {
      expect(provider.acceptsContentType(type)).toBe(true);
    }
  });

  describe("job details from the docs, served as Speechmatics would", () => {
    let server: TestServer | undefined;
    afterEach(() => server?.close());

    async function serving(routes: Record<string, Buffer>): Promise<Provider> {
      server = await testServer(({ url }) => {
        const body = routes[new URL(url, "http://x").pathname];
        return body ? { status: 200, body } : { status: 404, body: '{"code":404,"error":"Job not found"}' };
      });
      return speechmaticsProvider({ apiKey: "k", baseUrl: server.url, retry: { limit: 0 } });
    }

    it("running is processing; rejected is an error with the job's message", async () => {
      const provider = await serving({
        "/v2/jobs/yjbmf9kqub": await fixture("job-running.json"),
        "/v2/jobs/8wvf82kadd": await fixture("job-rejected-no-speech.json"),
      });
      expect(await provider.fetchResult!("yjbmf9kqub")).toMatchObject({ jobId: "yjbmf9kqub", status: "processing" });
      expect(await provider.fetchResult!("8wvf82kadd")).toMatchObject({ status: "error", error: "No speech found for language identification" });
      await expect(provider.fetchResult!("nope")).rejects.toThrow(/HTTP 404.*Job not found/);
    });

    it("done with failed notification attempts is still done: the transcript is fetched, and must be this job's", async () => {
      const transcript = await fixture("transcript-response-example.json");
      const provider = await serving({
        "/v2/jobs/1uyo82b1bv": await fixture("job-done-notification-failed.json"),
        "/v2/jobs/1uyo82b1bv/transcript": transcript,
        "/v2/jobs/650krlru2e": Buffer.from(JSON.stringify({ job: { id: "650krlru2e", status: "done" } })),
        "/v2/jobs/650krlru2e/transcript": transcript,
      });
      await expect(provider.fetchResult!("1uyo82b1bv")).rejects.toThrow(/fetched for job 1uyo82b1bv is about job 650krlru2e/);
      const event = await provider.fetchResult!("650krlru2e");
      expect(event).toMatchObject({ status: "completed", result: { text: "Welcome to Speechmatics. Thank you." } });
    });
  });
});
