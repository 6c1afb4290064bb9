import { Deepgram, DeepgramClient, DeepgramError } from "@deepgram/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { type DevProvider, type DevProviderOptions, fixedTextEngine, startDevProvider } from "../../src/dev/dev-provider.js";
import { until } from "../helpers.js";
import { type ReceivedRequest, type TestServer, fixtures, webhookEndpoint } from "./provider-test-kit.js";

/*
 * The official @deepgram/sdk, pointed at the deepgram dialect through its `baseUrl`, submits and
 * gets what it parses; a plain node:http server stands in for the user's callback endpoint.
 */

let dev: DevProvider | undefined;
let endpoint: TestServer | undefined;
afterEach(async () => {
  await dev?.close();
  await endpoint?.close();
  dev = undefined;
  endpoint = undefined;
});

async function emulator(options: DevProviderOptions = {}): Promise<{ dev: DevProvider; sdk: DeepgramClient }> {
  dev = await startDevProvider({ dialect: "deepgram", processingDelayMs: 20, retryDelaysMs: [20, 20, 20], engine: fixedTextEngine("Hello from hookscribe."), ...options });
  return { dev, sdk: new DeepgramClient({ apiKey: dev.apiKey, baseUrl: dev.url }) };
}

/** A callback endpoint answering each attempt with `status(attempt)`. */
async function callbackEndpoint(status?: (attempt: number) => number): Promise<TestServer> {
  endpoint = await webhookEndpoint("/dg?tenant=acme", status);
  return endpoint;
}

const fixture = fixtures("deepgram").json;

async function sdkError(call: Promise<unknown>): Promise<DeepgramError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeepgramError);
  return error as DeepgramError;
}

describe("@deepgram/sdk against the deepgram dialect", () => {
  it("transcribeUrl with a callback gets a request_id; the callback is the full result, in seconds, with the extra pairs echoed", async () => {
    const { dev, sdk } = await emulator();
    const callback = await callbackEndpoint();
    const accepted = await sdk.listen.v1.media.transcribeUrl({
      url: "https://dpgr.am/spacewalk.wav",
      callback: callback.url,
      model: "nova-3",
      smart_format: true,
      diarize: true,
      language: "en",
      extra: ["job:1", "tenant:acme"],
      tag: "hookscribe",
    });
    expect(Object.keys(accepted)).toEqual(Object.keys(await fixture("accepted.json")));
    const requestId = (accepted as { request_id: string }).request_id;
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    await until(() => callback.received.length === 1);
    const [{ method, headers, body }] = callback.received as [ReceivedRequest];
    expect(method).toBe("POST");
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["dg-token"]).toBe(dev.webhookSecret);
    expect(body.metadata).toMatchObject({ request_id: requestId, duration: 1.2, channels: 1, extra: { job: "1", tenant: "acme" } });
    const [alternative] = body.results.channels[0].alternatives;
    expect(alternative.transcript).toBe("Hello from hookscribe.");
    expect(alternative.words).toEqual([
      { word: "hello", start: 0, end: 0.4, confidence: 1, speaker: 0, punctuated_word: "Hello" },
      { word: "from", start: 0.4, end: 0.8, confidence: 1, speaker: 0, punctuated_word: "from" },
      { word: "hookscribe", start: 0.8, end: 1.2, confidence: 1, speaker: 0, punctuated_word: "hookscribe." },
    ]);
    // The callback has the shape of the published examples: the same top-level and metadata fields.
    const published = await fixture("spacewalk.json");
    expect(Object.keys(body).sort()).toEqual(Object.keys(published).sort());
    expect(Object.keys(body.metadata).sort()).toEqual([...Object.keys(published.metadata as object), "extra"].sort());
    expect(dev.job(requestId)).toMatchObject({ status: "completed", deliveries: { completed: { attempts: 1, state: "delivered" } } });
  });

  it("withRawResponse shows a 200 JSON answer; callback_method PUT is honoured", async () => {
    const { sdk } = await emulator();
    const callback = await callbackEndpoint();
    const { data, rawResponse } = await sdk.listen.v1.media.transcribeUrl({ url: "https://dpgr.am/spacewalk.wav", callback: callback.url, callback_method: "PUT" }).withRawResponse();
    expect(rawResponse.status).toBe(200);
    expect(rawResponse.headers.get("content-type")).toBe("application/json");
    await until(() => callback.received.length === 1);
    expect(callback.received[0]).toMatchObject({ method: "PUT", body: { metadata: { request_id: (data as { request_id: string }).request_id } } });
  });

  it("a wrong key is a DeepgramError 401 with the legacy error body", async () => {
    const { dev } = await emulator();
    const sdk = new DeepgramClient({ apiKey: "wrong", baseUrl: dev.url, maxRetries: 0 });
    const error = await sdkError(sdk.listen.v1.media.transcribeUrl({ url: "https://dpgr.am/spacewalk.wav", callback: "https://hooks.example.com/dg" }));
    expect(error.statusCode).toBe(401);
    expect(Object.keys(error.body as object).sort()).toEqual(Object.keys(await fixture("error-401.json")).sort());
    expect(error.body).toMatchObject({ err_code: "INVALID_AUTH", err_msg: "Invalid credentials." });
  });

  it("a call without a callback is a BadRequestError saying the emulator only runs callback requests", async () => {
    const { dev, sdk } = await emulator();
    const error = await sdkError(sdk.listen.v1.media.transcribeUrl({ url: "https://dpgr.am/spacewalk.wav" }));
    expect(error).toBeInstanceOf(Deepgram.BadRequestError);
    expect(error.body).toMatchObject({ err_code: "Bad Request", err_msg: expect.stringMatching(/only runs callback requests/) });
    expect(dev.jobs()).toEqual([]);
  });

  it("a missing or bad audio url is a BadRequestError", async () => {
    const { sdk } = await emulator();
    const error = await sdkError(sdk.listen.v1.media.transcribeUrl({ url: "not a url", callback: "https://hooks.example.com/dg" }));
    expect(error).toBeInstanceOf(Deepgram.BadRequestError);
    expect((error.body as { err_msg: string }).err_msg).toMatch(/url/);
  });

  it("the SDK's own retry gets through a 503 and one request is created", async () => {
    const { dev, sdk } = await emulator({ faults: { failFirstSubmits: 1 } });
    const callback = await callbackEndpoint();
    const accepted = await sdk.listen.v1.media.transcribeUrl({ url: "https://dpgr.am/spacewalk.wav", callback: callback.url });
    expect(dev.stats.submits).toBe(2);
    expect(dev.jobs().map((job) => job.jobId)).toEqual([(accepted as { request_id: string }).request_id]);
  });

  it("the sender retries any non-2xx answer, 4xx included, on the retry schedule", async () => {
    const { dev, sdk } = await emulator();
    const callback = await callbackEndpoint((attempt) => (attempt === 1 ? 404 : attempt === 2 ? 500 : 200));
    const accepted = await sdk.listen.v1.media.transcribeUrl({ url: "https://dpgr.am/spacewalk.wav", callback: callback.url });
    const requestId = (accepted as { request_id: string }).request_id;
    await until(() => dev.job(requestId)?.deliveries.completed?.state === "delivered");
    expect(dev.job(requestId)!.deliveries.completed!.attempts).toBe(3);
  });

  it("a failed job's callback carries err_msg and the request's metadata", async () => {
    const { sdk } = await emulator({ faults: { errorResult: true } });
    const callback = await callbackEndpoint();
    const accepted = await sdk.listen.v1.media.transcribeUrl({ url: "https://dpgr.am/broken.wav", callback: callback.url, extra: "job:9" });
    await until(() => callback.received.length === 1);
    expect(callback.received[0]!.body).toMatchObject({
      err_code: "Bad Request",
      err_msg: expect.stringMatching(/Simulated failure/),
      metadata: { request_id: (accepted as { request_id: string }).request_id, extra: { job: "9" } },
    });
    expect(Object.keys(callback.received[0]!.body).sort()).toEqual(Object.keys(await fixture("failure.json")).sort());
  });
});
