import { AssemblyAI, type TranscriptWebhookNotification } from "assemblyai";
import { type DevProvider, fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { afterEach, describe, expect, it } from "vitest";
import { type TestServer, webhookEndpoint } from "./provider-test-kit.js";

/*
 * The official `assemblyai` SDK pointed at the emulator's "assemblyai" dialect through its
 * `baseUrl`: what it sends is accepted, what the emulator answers is what the SDK expects.
 */

const TEXT = "hello from the assemblyai dialect";
const SPEECH_MODELS = ["universal-2"];

let dev: DevProvider | undefined;
let receiver: TestServer | undefined;
afterEach(async () => {
  await dev?.close();
  await receiver?.close();
  dev = undefined;
  receiver = undefined;
});

async function start(options: Parameters<typeof startDevProvider>[0] = {}): Promise<AssemblyAI> {
  dev = await startDevProvider({ dialect: "assemblyai", engine: fixedTextEngine(TEXT), processingDelayMs: 50, ...options });
  return new AssemblyAI({ apiKey: dev.apiKey, baseUrl: dev.url });
}


describe("the official assemblyai SDK against the assemblyai dialect", () => {
  it("transcripts.submit() with a webhook, then the thin webhook with the echoed auth header, then transcripts.get()", async () => {
    const client = await start();
    const endpoint = (receiver = await webhookEndpoint("/hooks/aai?customer=42"));
    const submitted = await client.transcripts.submit({
      audio: "https://audio.example/call.wav",
      speech_models: SPEECH_MODELS,
      language_code: "en",
      webhook_url: endpoint.url,
      webhook_auth_header_name: "X-Webhook-Secret",
      webhook_auth_header_value: "s3cret",
    });
    expect(submitted).toMatchObject({
      status: "queued",
      audio_url: "https://audio.example/call.wav",
      webhook_url: endpoint.url,
      webhook_auth: true,
      webhook_auth_header_name: "X-Webhook-Secret",
      text: null,
    });
    expect(submitted.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(submitted).not.toHaveProperty("webhook_auth_header_value");

    const { headers, body } = await endpoint.first;
    expect(body as TranscriptWebhookNotification).toEqual({ transcript_id: submitted.id, status: "completed" });
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["x-webhook-secret"]).toBe("s3cret");

    const transcript = await client.transcripts.get(submitted.id);
    expect(transcript).toMatchObject({ id: submitted.id, status: "completed", text: TEXT, language_code: "en", audio_duration: 2, speech_models: SPEECH_MODELS });
    // Word times in milliseconds, as AssemblyAI sends them.
    expect(transcript.words?.map(({ text, start, end }) => [text, start, end])).toEqual([
      ["hello", 0, 400],
      ["from", 400, 800],
      ["the", 800, 1200],
      ["assemblyai", 1200, 1600],
      ["dialect", 1600, 2000],
    ]);
    expect(transcript.confidence).toBe(1);
  });

  it("transcripts.transcribe() polls (at once, then every 3 s) until the transcript is completed", async () => {
    const client = await start();
    const started = Date.now();
    const transcript = await client.transcripts.transcribe({ audio_url: "https://audio.example/poll.wav", speech_models: SPEECH_MODELS });
    expect(transcript).toMatchObject({ status: "completed", text: TEXT, language_code: "en_us", webhook_url: null, webhook_auth: false });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(dev!.stats.submits).toBe(1);
    expect(dev!.stats.statusFetches).toBeGreaterThanOrEqual(1);
    expect(dev!.stats.statusFetches).toBeLessThanOrEqual(2);
    // Without a webhook_url nothing is sent.
    expect(dev!.stats.webhooksSent).toBe(0);
  });

  it("waitUntilReady() resolves with status error and AssemblyAI's failure message", async () => {
    const client = await start({ faults: { errorResult: true } });
    const submitted = await client.transcripts.submit({ audio: "https://audio.example/broken.wav", speech_models: SPEECH_MODELS });
    const failed = await client.transcripts.waitUntilReady(submitted.id, { pollingInterval: 20 });
    expect(failed).toMatchObject({ id: submitted.id, status: "error", error: expect.stringContaining("Simulated failure"), text: null });
  });

  it("throws the dialect's {error} texts: a wrong key, a submit without audio_url or speech_models, an unknown id", async () => {
    const client = await start();
    const wrongKey = new AssemblyAI({ apiKey: "wrong-key", baseUrl: dev!.url });
    await expect(wrongKey.transcripts.get("x")).rejects.toThrow(/^Authentication error, API token missing\/invalid$/);
    await expect(client.transcripts.submit({ audio_url: "https://audio.example/a.wav" })).rejects.toThrow(/speech_models: must be provided/);
    await expect(client.transcripts.submit({ speech_models: SPEECH_MODELS } as never)).rejects.toThrow(/audio_url: must be provided/);
    await expect(client.transcripts.submit({ audio_url: "https://audio.example/a.wav", speech_models: SPEECH_MODELS, speech_model: "best" })).rejects.toThrow(/^speech_model is deprecated/);
    await expect(client.transcripts.get("00000000-0000-0000-0000-000000000000")).rejects.toThrow(/Unknown job/);
  });
});
