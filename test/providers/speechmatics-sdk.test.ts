import { BatchClient, type RetrieveTranscriptResponse } from "@speechmatics/batch-client";
import { type DevProvider, fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { afterEach, describe, expect, it } from "vitest";
import { rejection, until } from "../helpers.js";
import { type TestServer, webhookEndpoint } from "./provider-test-kit.js";

/*
 * The official `@speechmatics/batch-client` SDK pointed at the emulator's "speechmatics" dialect
 * through its `apiUrl` (it keeps only the origin): what it sends is accepted, what the emulator
 * answers is what the SDK parses, its error answers included.
 */

const TEXT = "Hello from the Speechmatics dialect.";
const AUDIO = { url: "https://audio.example/call.wav" };

let dev: DevProvider | undefined;
let receiver: TestServer | undefined;
afterEach(async () => {
  await dev?.close();
  await receiver?.close();
  dev = undefined;
  receiver = undefined;
});

async function start(options: Parameters<typeof startDevProvider>[0] = {}): Promise<BatchClient> {
  dev = await startDevProvider({ dialect: "speechmatics", engine: fixedTextEngine(TEXT), processingDelayMs: 50, ...options });
  return new BatchClient({ apiKey: dev.apiKey, apiUrl: `${dev.url}/v2`, appId: "hookscribe-test" });
}

/** What an SDK call rejected with: its error, carrying Speechmatics' answer in `response`. */
async function errorOf(promise: Promise<unknown>): Promise<Error & { response?: unknown }> {
  return rejection(promise);
}

describe("the official @speechmatics/batch-client SDK against the speechmatics dialect", () => {
  it("createTranscriptionJob() with a notification_config, the notification it gets, getJob(), getJobResult() as json-v2 and text", async () => {
    const client = await start();
    const endpoint = (receiver = await webhookEndpoint("/callback"));
    const { id } = await client.createTranscriptionJob(AUDIO, {
      transcription_config: { language: "en", operating_point: "enhanced" },
      notification_config: [{ url: endpoint.url, contents: ["transcript.json-v2"], auth_headers: ["Authorization: Bearer hook-secret"] }],
      tracking: { reference: "ref-1", details: { customer: 42 } },
    });
    expect(id).toMatch(/^[a-z0-9]{10}$/);

    const running = await client.getJob(id);
    expect(running.job).toMatchObject({ id, status: "running", config: { type: "transcription", fetch_data: AUDIO } });

    const delivery = await endpoint.first;
    expect(delivery.url).toBe(`/callback?id=${id}&status=success`);
    expect(delivery.headers.authorization).toBe("Bearer hook-secret");
    expect(delivery.headers["content-type"]).toBe("application/json");
    const notified = JSON.parse(delivery.text) as RetrieveTranscriptResponse;
    expect(notified.job).toMatchObject({ id, tracking: { reference: "ref-1", details: { customer: 42 } } });

    await until(async () => (await client.getJob(id)).job.status === "done");
    const done = await client.getJob(id);
    expect(done.job).toMatchObject({ status: "done", duration: 2 });

    const transcript = await client.getJobResult(id, "json-v2");
    expect(transcript).toEqual(notified);
    expect(transcript.metadata.transcription_config).toEqual({ language: "en", operating_point: "enhanced" });
    const contents = transcript.results.map((result) => result.alternatives?.[0]?.content);
    expect(contents).toEqual(["Hello", "from", "the", "Speechmatics", "dialect", "."]);
    // Seconds, 0.4 s a word from fixedTextEngine; the full stop sits at the end of the word before it.
    expect(transcript.results[0]).toMatchObject({ type: "word", start_time: 0, end_time: 0.4 });
    expect(transcript.results[5]).toMatchObject({ type: "punctuation", attaches_to: "previous", is_eos: true, start_time: 2, end_time: 2 });
    expect(transcript.results[0]!.alternatives![0]).toEqual({ content: "Hello", confidence: 1, language: "en", speaker: "UU" });

    expect(await client.getJobResult(id, "text")).toBe(TEXT);
    expect(dev!.stats.submits).toBe(1);
  });

  it("transcribe(): submit, its 3 s poll, then the json-v2 transcript", async () => {
    const client = await start();
    const started = Date.now();
    const transcript = (await client.transcribe(AUDIO, { transcription_config: { language: "auto" } }, "json-v2", 10_000)) as RetrieveTranscriptResponse;
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(transcript.metadata.transcription_config).toEqual({ language: "auto" });
    expect(transcript.results.filter((result) => result.type === "word").map((result) => result.alternatives?.[0]?.language)).toEqual(
      Array(5).fill("en"),
    );
    // The SDK's one poll of the job, then its transcript.
    expect(dev!.stats.statusFetches).toBe(2);
  });

  it("a rejected job: status rejected with Speechmatics' errors entries", async () => {
    const client = await start({ faults: { errorResult: true } });
    const { id } = await client.createTranscriptionJob(AUDIO, { transcription_config: { language: "en" } });
    await until(async () => (await client.getJob(id)).job.status !== "running");
    const { job } = await client.getJob(id);
    expect(job.status).toBe("rejected");
    expect(job.errors).toEqual([{ timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), message: expect.stringContaining("Simulated failure") }]);
    const notReady = await errorOf(client.getJobResult(id));
    expect(notReady).toMatchObject({ name: "SpeechmaticsResponseError", message: "Transcription not ready", response: { code: 404 } });
  });

  it("error answers the SDK accepts: 401 Permission Denied, 404 Job not found, 400 Job rejected for a config without a language", async () => {
    const client = await start();
    const wrongKey = new BatchClient({ apiKey: "wrong", apiUrl: dev!.url, appId: "hookscribe-test" });
    expect(await errorOf(wrongKey.getJob("x"))).toMatchObject({
      name: "SpeechmaticsResponseError",
      message: "Permission Denied",
      response: { code: 401, error: "Permission Denied" },
    });
    expect(await errorOf(client.getJob("nope"))).toMatchObject({ name: "SpeechmaticsResponseError", response: { code: 404, error: "Job not found" } });
    const noLanguage = await errorOf(client.createTranscriptionJob(AUDIO, { transcription_config: {} as never }));
    expect(noLanguage).toMatchObject({ name: "SpeechmaticsResponseError", message: "Job rejected", response: { code: 400 } });
    expect((noLanguage.response as { detail: string }).detail).toMatch(/^Job config JSON is invalid\. Error: transcription_config\.language/);
    const file = { data: new Blob([Buffer.from("RIFF")]), fileName: "call.wav" };
    const upload = await errorOf(client.createTranscriptionJob(file, { transcription_config: { language: "en" } }));
    expect(upload).toMatchObject({ name: "SpeechmaticsResponseError", response: { code: 501, error: "Not Implemented" } });
  });
});
