import { type DevProvider, fixedTextEngine, startDevProvider } from "hookscribe/dev";
import {
  InvalidParameterError,
  InvalidStateError,
  ResourceNotFoundOrUnsupportedApiError,
  RevAiApiClient,
  RevAiApiError,
} from "revai-node-sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection, until } from "../helpers.js";
import { type ReceivedRequest, type TestServer, webhookEndpoint } from "./provider-test-kit.js";

/*
 * The official revai-node-sdk, pointed at the emulator's "revai" dialect through its
 * deploymentConfig.baseUrl, gets what it gets from api.rev.ai: job ids and statuses, the
 * transcript as an object (times in seconds) and as text, and its own error classes (which do not
 * extend Error). The SDK has no polling helper; the webhook goes to a plain server here.
 */

let dev: DevProvider;
let hooks: TestServer;
let hooksUrl: string;
let received: ReceivedRequest[];

beforeEach(async () => {
  dev = await startDevProvider({
    dialect: "revai",
    engine: fixedTextEngine("Hello world."),
    processingDelayMs: 100,
    faults: { errorResult: (audioUrl) => audioUrl.endsWith("/broken.mp3") },
  });
  hooks = await webhookEndpoint("/rev?tok=x");
  ({ url: hooksUrl, received } = hooks);
});

afterEach(async () => {
  await dev.close();
  await hooks.close();
});

function client(token = dev.apiKey): RevAiApiClient {
  return new RevAiApiClient({ token, deploymentConfig: { baseUrl: dev.url, baseWebsocketUrl: dev.url.replace("http", "ws") } });
}

describe("revai-node-sdk against the revai dialect", () => {
  it("submitJob, the webhook with the echoed Authorization, getJobDetails, getTranscriptObject, getTranscriptText", async () => {
    const rev = client();
    const job = await rev.submitJob({
      source_config: { url: "https://audio.example/a.mp3" },
      notification_config: { url: hooksUrl, auth_headers: { Authorization: "Bearer hook-secret" } },
      metadata: "job-meta",
      language: "en",
    });
    expect(job).toMatchObject({ status: "in_progress", type: "async", metadata: "job-meta", language: "en" });
    expect(job.id).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(new Date(job.created_on).toISOString()).toBe(job.created_on);

    await until(() => received.length === 1);
    const [webhook] = received;
    expect(webhook!.headers).toMatchObject({ authorization: "Bearer hook-secret", "content-type": "application/json" });
    expect(webhook!.body).toMatchObject({ job: { id: job.id, status: "transcribed", metadata: "job-meta" } });

    const details = await rev.getJobDetails(job.id);
    expect(details).toMatchObject({ id: job.id, status: "transcribed", duration_seconds: 0.8, language: "en" });
    expect(details.completed_on).toBeDefined();

    const transcript = await rev.getTranscriptObject(job.id);
    expect(transcript.monologues).toEqual([
      {
        speaker: 0,
        elements: [
          { type: "text", value: "Hello", ts: 0, end_ts: 0.4, confidence: 1 },
          { type: "punct", value: " " },
          { type: "text", value: "world", ts: 0.4, end_ts: 0.8, confidence: 1 },
          { type: "punct", value: "." },
        ],
      },
    ]);
    expect(await rev.getTranscriptText(job.id)).toBe("Speaker 0    00:00:00    Hello world.");
  });

  it("a failed job: the webhook and getJobDetails carry failure and failure_detail; the transcript is a 409", async () => {
    const rev = client();
    const job = await rev.submitJob({ source_config: { url: "https://audio.example/broken.mp3" }, notification_config: { url: hooksUrl } });
    await until(() => received.length === 1);
    expect(received[0]!.headers.authorization).toBeUndefined();
    expect(received[0]!.body).toMatchObject({ job: { id: job.id, status: "failed", failure: "internal_processing" } });
    const details = await rev.getJobDetails(job.id);
    expect(details).toMatchObject({ status: "failed", failure_detail: expect.stringContaining("Simulated failure") });
    const error = await rejection(rev.getTranscriptObject(job.id));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ statusCode: 409, currentValue: "failed", allowedValues: ["transcribed"] });
  });

  it("the SDK's error classes: 401 on a wrong token, 400 naming the parameter, 404 for an unknown job, 409 while in progress", async () => {
    const unauthorized = await rejection(client("wrong").getJobDetails("Umx5c6F7pH7r"));
    expect(unauthorized).toBeInstanceOf(RevAiApiError);
    expect(unauthorized).toMatchObject({ statusCode: 401, details: { title: "Authorization has been denied for this request", status: 401 } });

    const rev = client();
    const invalid = await rejection(rev.submitJob({ notification_config: { url: hooksUrl } }));
    expect(invalid).toBeInstanceOf(InvalidParameterError);
    expect(invalid).toMatchObject({ statusCode: 400, parameters: { source_config: ["The source_config field is required"] } });

    const missing = await rejection(rev.getJobDetails("nope"));
    expect(missing).toBeInstanceOf(ResourceNotFoundOrUnsupportedApiError);
    expect(missing).toMatchObject({ statusCode: 404, details: { title: "could not find job", type: "https://www.rev.ai/api/v1/errors/job-not-found" } });

    const job = await rev.submitJob({ source_config: { url: "https://audio.example/a.mp3" } });
    const early = await rejection(rev.getTranscriptObject(job.id));
    expect(early).toBeInstanceOf(InvalidStateError);
    expect(early).toMatchObject({ statusCode: 409, currentValue: "in_progress", allowedValues: ["transcribed"] });
    expect(dev.stats.submits).toBe(2);
  });

  it("a job submitted without notification_config is only polled: getJobDetails turns transcribed, no webhook is sent", async () => {
    const rev = client();
    const job = await rev.submitJob({ source_config: { url: "https://audio.example/a.mp3" } });
    await until(async () => (await rev.getJobDetails(job.id)).status === "transcribed");
    expect(dev.stats.webhooksSent).toBe(0);
    expect(dev.job(job.id)!.status).toBe("completed");
  });
});
