import { GladiaClient } from "@gladiaio/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { type DevProvider, type DevProviderOptions, fixedTextEngine, startDevProvider } from "../../src/dev/dev-provider.js";
import { until } from "../helpers.js";
import { type TestServer, webhookEndpoint } from "./provider-test-kit.js";

/*
 * The official Gladia SDK (`@gladiaio/sdk`) pointed at the emulator's `gladia` dialect: whatever
 * it sends must be understood, whatever the emulator answers must be what the SDK parses.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dev: DevProvider | undefined;
let callbackServer: TestServer | undefined;
afterEach(async () => {
  await dev?.close();
  await callbackServer?.close();
  dev = undefined;
  callbackServer = undefined;
});

async function gladia(options: DevProviderOptions = {}) {
  dev = await startDevProvider({ dialect: "gladia", processingDelayMs: 50, engine: fixedTextEngine("hello world"), ...options });
  return new GladiaClient({ apiKey: dev.apiKey, apiUrl: dev.url }).preRecorded();
}

/** Where the emulator's callbacks land. */
async function callbackReceiver(): Promise<TestServer> {
  callbackServer = await webhookEndpoint("/callback?tok=x");
  return callbackServer;
}

describe("@gladiaio/sdk against the gladia dialect", () => {
  it("create() with a callback, get(), poll(): ids, statuses, the result in seconds, the callback", async () => {
    const preRecorded = await gladia({ processingDelayMs: 500 });
    const callback = await callbackReceiver();
    const created = await preRecorded.create({
      audio_url: "https://audio.example/a.mp3",
      callback: true,
      callback_config: { url: callback.url, method: "PUT" },
      language_config: { languages: ["en"], code_switching: false },
      custom_metadata: { job: 1 },
      diarization: true,
    });
    expect(created.id).toMatch(UUID);
    expect(created.result_url).toBe(`${dev!.url}/v2/pre-recorded/${created.id}`);

    const running = await preRecorded.get(created.id);
    expect(running).toMatchObject({ id: created.id, status: "processing", kind: "pre-recorded", custom_metadata: { job: 1 }, result: null });

    const done = await preRecorded.poll(created.id, { interval: 20, timeout: 5000 });
    expect(done).toMatchObject({ status: "done", error_code: null });
    const transcription = done.result!.transcription!;
    expect(transcription.full_transcript).toBe("hello world");
    expect(transcription.languages).toEqual(["en"]);
    expect(transcription.utterances).toHaveLength(1);
    expect(transcription.utterances[0]!.words).toEqual([
      { word: "hello", start: 0, end: 0.4, confidence: 1 },
      { word: " world", start: 0.4, end: 0.8, confidence: 1 },
    ]);
    expect(done.result!.metadata.audio_duration).toBe(0.8);

    await until(() => callback.received.length === 1);
    const { method, headers, body } = callback.received[0]!;
    expect({ method, contentType: headers["content-type"], body }).toEqual({
      method: "PUT",
      contentType: "application/json",
      body: { id: created.id, event: "transcription.success", payload: done.result, custom_metadata: { job: 1 } },
    });
  });

  it("transcribe(url) polls to the finished job; a job without a callback sends none", async () => {
    const preRecorded = await gladia({ processingDelayMs: 100 });
    const done = await preRecorded.transcribe("https://audio.example/b.mp3", { language_config: { languages: ["fr"] } }, { interval: 30, timeout: 5000 });
    expect(done.status).toBe("done");
    expect(done.result!.transcription!.full_transcript).toBe("hello world");
    expect(done.result!.transcription!.utterances[0]!.language).toBe("fr");
    expect(dev!.stats.statusFetches).toBeGreaterThanOrEqual(2);
    expect(dev!.stats.webhooksSent).toBe(0);
  });

  it("transcribe() of a failing job throws with Gladia's error code", async () => {
    const preRecorded = await gladia({ faults: { errorResult: true } });
    await expect(preRecorded.transcribe("https://audio.example/broken.mp3", {}, { interval: 30, timeout: 5000 })).rejects.toThrow(
      /failed with error code: 500/,
    );
  });

  it("a wrong key, a missing audio_url and an unknown job come back as the SDK's HttpError with Gladia's bodies", async () => {
    const preRecorded = await gladia();
    const wrongKey = await new GladiaClient({ apiKey: "wrong", apiUrl: dev!.url })
      .preRecorded()
      .get("x")
      .catch((error: unknown) => error);
    expect(wrongKey).toMatchObject({ status: 401, responseBody: { statusCode: 401, message: "gladia key not found" } });
    expect((wrongKey as Error).message).toMatch(/^gladia key not found \| G-[0-9a-f]{8} \| 401 \| GET \/v2\/pre-recorded\/x$/);

    const invalid = await preRecorded.create({} as never).catch((error: unknown) => error);
    expect(invalid).toMatchObject({
      status: 400,
      responseBody: { statusCode: 400, message: "Bad Request", path: "/v2/pre-recorded", validation_errors: [expect.stringMatching(/^audio_url: /)] },
    });

    const unknown = await preRecorded.get("45463597-20b7-4af7-b3b3-f5fb778203ab").catch((error: unknown) => error);
    expect(unknown).toMatchObject({ status: 404, responseBody: { statusCode: 404, message: "Not found", path: "/v2/pre-recorded/45463597-20b7-4af7-b3b3-f5fb778203ab" } });
  });
});
