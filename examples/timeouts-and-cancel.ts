/**
 * Deadlines and cancellation never strand a billed job: at the deadline hookscribe asks the
 * provider once, then rejects with the job id; the job stays stored for `client.job(id)`.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transcriber, TranscriptionTimeoutError, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ engine: fixedTextEngine("worth the wait"), processingDelayMs: 1500 });
const client = new Transcriber({
  provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
  receiver: { port: 0 },
  storePath: join(await mkdtemp(join(tmpdir(), "hookscribe-timeout-")), "store.json"),
});

try {
  await client.transcribe("https://example.com/slow.mp3", { timeoutMs: 300 });
} catch (error) {
  if (!(error instanceof TranscriptionTimeoutError)) throw error;
  console.log(`timed out: ${error.message}`);
  const late = await client.job(error.jobId!);
  console.log(`the late webhook still resolved it: ${late.text}`);
}

const controller = new AbortController();
const job = client.transcribe("https://example.com/other.mp3", { signal: controller.signal });
await job.submitted;
controller.abort();
await job.catch((error: unknown) => console.log(String(error)));

await client.close();
await dev.close();
