import { readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { SubmitError, TranscriptionError } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, collect, fastProvider, harness, itOnFiles, rejection, until } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.cleanup());

/** What the store holds once the client closed (the file, or the tables on PostgreSQL). */
async function storedAfterClose(h: Harness) {
  await h.client.close();
  return h.stored();
}

describe("transcribe() end to end against the emulator", () => {
  it("an onStatus callback that throws costs neither the transcript, its announcement nor the webhook's 200", async () => {
    h = await harness();
    const events = collect(h.client);
    const job = h.client.transcribe("https://audio.example/throwing-callback.wav", {
      onStatus: () => {
        throw new Error("bug in the caller's callback");
      },
    });
    const jobId = await job.submitted;
    expect((await job).text).toBe(SAMPLE_TEXT);
    expect(events.map((t) => t.jobId)).toEqual([jobId]);
    await until(() => h.dev.job(jobId)?.deliveries.completed?.state === "delivered");
    expect(h.dev.job(jobId)?.deliveries.completed?.attempts).toBe(1);
  });

  it("resolves with the transcript from the verified webhook, one submit, no fetch", async () => {
    h = await harness();
    const events = collect(h.client);
    const statuses: string[] = [];
    const job = h.client.transcribe("https://audio.example/call.wav", { onStatus: (s) => statuses.push(s) });
    expect(job.status).toBe("submitting");
    const jobId = await job.submitted;
    const transcript = await job;

    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(transcript.jobId).toBe(jobId);
    expect(job.jobId).toBe(jobId);
    expect(job.status).toBe("completed");
    expect(transcript.provider).toBe("generic");
    expect(transcript.words.map((w) => w.text)).toEqual(SAMPLE_TEXT.split(" "));
    expect(transcript.words.every((w) => w.end >= w.start)).toBe(true);
    expect(statuses).toEqual(["queued", "processing", "completed"]);
    expect(events.map((t) => t.jobId)).toEqual([jobId]);
    expect(h.dev.stats.submits).toBe(1);
    expect(h.dev.stats.statusFetches).toBe(0);

    // The store itself (the file on disk, or the tables; not a memory adapter) holds the finished job and its transcript.
    const stored = await storedAfterClose(h);
    const records = Object.values(stored.jobs);
    expect(records).toMatchObject([{ jobId, status: "completed", processed: true }]);
    expect((await stored.transcript(records[0]!.ref))?.text).toBe(SAMPLE_TEXT);
  });

  it("fetches a thin delivery's result exactly once", async () => {
    h = await harness({ dev: { faults: { thinPayloads: true, duplicateDeliveries: 2 } } });
    const transcript = await h.client.transcribe("https://audio.example/thin.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    await until(() => h.dev.stats.webhooksDelivered >= 6);
    expect(h.dev.stats.statusFetches).toBe(1);
  });

  it("emits 'transcript' once however often the provider delivers", async () => {
    h = await harness({ dev: { faults: { duplicateDeliveries: 3 } } });
    const events = collect(h.client);
    const transcripts = await Promise.all([1, 2, 3].map((n) => h.client.transcribe(`https://audio.example/${n}.wav`)));
    // processing + completed, each sent 1 + 3 times, for 3 jobs
    await until(() => h.dev.stats.webhooksDelivered === 3 * 2 * 4);
    expect(events.map((t) => t.jobId).sort()).toEqual(transcripts.map((t) => t.jobId).sort());
    const stored = await storedAfterClose(h);
    expect(Object.keys(stored.jobs)).toHaveLength(3);
    expect(Object.keys(stored.inbox)).toHaveLength(0);
  });

  it("ignores a stale status that arrives after the terminal one", async () => {
    h = await harness({ dev: { faults: { outOfOrder: true } } });
    const statuses: string[] = [];
    const job = h.client.transcribe("https://audio.example/ooo.wav", { onStatus: (s) => statuses.push(s) });
    await job;
    await until(() => h.dev.stats.webhooksDelivered === 2);
    expect(statuses).toEqual(["queued", "completed"]);
    const stored = await storedAfterClose(h);
    expect(Object.values(stored.jobs)).toMatchObject([{ status: "completed", processed: true }]);
  });

  it("resolves when the webhook arrives before the submit's answer", async () => {
    h = await harness({ dev: { faults: { webhookBeforeSubmitResponse: true } } });
    const events = collect(h.client);
    const statuses: string[] = [];
    const transcript = await h.client.transcribe("https://audio.example/early.wav", { onStatus: (s) => statuses.push(s) });
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(statuses).not.toContain("queued");
    expect(events).toHaveLength(1);
  });

  it("follows the job that called back when a retried submit started a second one", async () => {
    h = await harness({ dev: { faults: { webhookBeforeSubmitResponse: true } } });
    const base = fastProvider(h.dev);
    let first: string | undefined;
    const client = h.restart({
      provider: {
        ...base,
        // As if the first answer got lost and a retry without an idempotency key started job two.
        async submit(request, context) {
          first = (await base.submit(request, { ...context, idempotencyKey: "first" })).jobId;
          return base.submit(request, { ...context, idempotencyKey: "second" });
        },
      },
    });
    const job = client.transcribe("https://audio.example/twice.wav");
    const transcript = await job;
    expect(h.dev.jobs()).toHaveLength(2);
    expect(transcript.jobId).toBe(first);
    expect(job.jobId).toBe(first);
    expect(await client.inspect(first!)).toMatchObject({ status: "completed", processed: true });
  });

  it("rejects with TranscriptionError carrying the job id when the provider reports a failure", async () => {
    h = await harness({ dev: { faults: { errorResult: true } } });
    const events = collect(h.client);
    const job = h.client.transcribe("https://audio.example/broken.wav");
    const error = await rejection(job);
    expect(error).toBeInstanceOf(TranscriptionError);
    expect((error as TranscriptionError).jobId).toBe(job.jobId);
    expect(job.status).toBe("error");
    expect(events).toHaveLength(0);
    // The failure is remembered: a later handle rejects the same way.
    await expect(h.client.job(job.jobId!)).rejects.toBeInstanceOf(TranscriptionError);
  });

  it("retries a submit answered 503 with the same Idempotency-Key and creates one job", async () => {
    h = await harness({ dev: { faults: { failFirstSubmits: 2 } } });
    const transcript = await h.client.transcribe("https://audio.example/retry.wav");
    expect(transcript.text).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.submits).toBe(3);
    expect(h.dev.jobs()).toHaveLength(1);
  });

  it("fails a submit refused with 401 after one attempt, with the status and the provider's text", async () => {
    h = await harness();
    const client = h.restart({ provider: fastProvider(h.dev, { apiKey: "wrong-key" }) });
    const error = await rejection(client.transcribe("https://audio.example/x.wav"));
    expect(error).toBeInstanceOf(SubmitError);
    expect((error as SubmitError).status).toBe(401);
    expect((error as SubmitError).message).toMatch(/401.*apiKey/);
    // Printing the error (an uncaught one, console.error) must not show the API key.
    expect(inspect(error, { depth: 10 })).not.toContain("wrong-key");
    expect(h.dev.stats.submits).toBe(1);
  });

  it("never writes secrets, webhook tokens or transcript text to the logs, and tags job entries with jobId", async () => {
    h = await harness();
    await h.client.transcribe("https://audio.example/log.wav");
    const webhookUrl = h.dev.jobs()[0]!.webhookUrl!;
    const token = webhookUrl.split("/").pop()!;
    const text = JSON.stringify(h.logs);
    expect(h.logs.length).toBeGreaterThan(3);
    for (const secret of [h.dev.apiKey, h.dev.webhookSecret, token, SAMPLE_TEXT, "quick brown"]) {
      expect(text).not.toContain(secret);
    }
    const aboutJobs = h.logs.filter((entry) => /webhook accepted|job submitted|transcript stored/.test(entry.msg ?? ""));
    expect(aboutJobs.length).toBeGreaterThanOrEqual(3);
    for (const entry of aboutJobs) expect(entry.obj).toHaveProperty("jobId");
  });

  itOnFiles("keeps no file world-readable", async () => {
    h = await harness();
    await h.client.transcribe("https://audio.example/mode.wav");
    await h.client.close();
    expect((await stat(h.storePath)).mode & 0o777).toBe(0o600);
    const transcripts = await readdir(`${h.storePath}.transcripts`);
    for (const name of transcripts) expect((await stat(`${h.storePath}.transcripts/${name}`)).mode & 0o777).toBe(0o600);
  });
});

describe("local files, listing and inspecting", () => {
  it("serves the shared file while the job runs", async () => {
    h = await harness({ dev: { processingDelayMs: 300 } });
    await writeFile(join(h.dir, "call.wav"), Buffer.from("RIFF-not-really-audio"));
    const job = h.client.transcribeFile(join(h.dir, "call.wav"));
    await job.submitted;
    const url = h.dev.jobs()[0]!.audioUrl;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("audio/wav");
    expect(await response.text()).toBe("RIFF-not-really-audio");
    // Only the shared name answers: guessing a sibling (call.txt) under the same token gets nothing.
    expect((await fetch(url.replace(/call\.wav$/, "call.txt"))).status).toBe(404);
    expect((await job).text).toBe(SAMPLE_TEXT);
    expect((await fetch(url)).status).toBe(404);
    await expect(h.client.transcribeFile(join(h.dir, "missing.wav"))).rejects.toThrow(/Cannot share/);
  });

  it("keeps serving a shared file after the handle stops waiting, until the job is done", async () => {
    h = await harness({ dev: { processingDelayMs: 300 } });
    await writeFile(join(h.dir, "late.wav"), Buffer.from("audio"));
    const job = h.client.transcribeFile(join(h.dir, "late.wav"));
    await job.submitted;
    job.cancel();
    const url = h.dev.jobs()[0]!.audioUrl;
    // The provider may download the audio after the caller stopped waiting.
    expect((await fetch(url)).status).toBe(200);
    await until(async () => (await fetch(url)).status === 404);
    expect(h.dev.jobs()[0]!.status).toBe("completed");
  });

  it("jobs() lists stored jobs by status and inspect() answers without waiting", async () => {
    h = await harness({ dev: { faults: { errorResult: (url) => url.includes("broken") } } });
    const done = await h.client.transcribe("https://audio.example/done.wav");
    const failed = h.client.transcribe("https://audio.example/broken.wav");
    await expect(failed).rejects.toBeInstanceOf(TranscriptionError);

    expect((await h.client.jobs()).map((job) => job.jobId)).toEqual([failed.jobId, done.jobId]);
    expect((await h.client.jobs({ status: "completed" })).map((job) => job.jobId)).toEqual([done.jobId]);
    const info = await h.client.inspect(done.jobId);
    expect(info).toMatchObject({ jobId: done.jobId, status: "completed", processed: true });
    expect(info.transcript?.text).toBe(SAMPLE_TEXT);
    const failure = await h.client.inspect(failed.jobId!);
    expect(failure).toMatchObject({ status: "error", transcript: undefined });
    expect(failure.error).toBeTruthy();
    await expect(h.client.inspect("job_unknown")).rejects.toThrow(/No job job_unknown/);
  });
});
