/**
 * A job outlives the process that submitted it: its webhook is stored whenever it arrives, and
 * `client.job(id)` in a later process (same store, same receiver URL) resolves it.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transcriber, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

// Retry quickly so the example does not wait the real schedule (1, 2, 4 … 32 s).
const dev = await startDevProvider({ engine: fixedTextEngine("picked up after a restart"), processingDelayMs: 300, retryDelaysMs: [200, 400, 800] });
const storePath = join(await mkdtemp(join(tmpdir(), "hookscribe-restart-")), "store.json");
const port = 8799;
const makeClient = () =>
  new Transcriber({
    provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
    receiver: { port },
    storePath,
  });

// Process 1 submits, then stops before the provider finishes.
const first = makeClient();
const job = first.transcribe("https://example.com/long-call.mp3");
const jobId = await job.submitted;
job.cancel();
await first.close();
console.log(`submitted ${jobId}, then the process stopped`);

// Process 2, later: the provider's retried webhook lands here and the handle resolves.
const second = makeClient();
const transcript = await second.job(jobId);
console.log(`picked up ${jobId}: ${transcript.text}`);
await second.close();
await dev.close();
