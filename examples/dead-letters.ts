/**
 * When processing a stored webhook keeps failing (here: the provider's result endpoint is down
 * for a thin webhook), the event becomes a dead letter; the handle keeps waiting and
 * `client.replay(id)` finishes it once the cause is gone.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transcriber, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ engine: fixedTextEngine("replayed from the dead letters"), processingDelayMs: 100, faults: { thinPayloads: true } });
const provider = genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret });
let resultsDown = true;
const client = new Transcriber({
  // A provider is plain data: wrap one method to simulate an outage of the result endpoint.
  provider: {
    ...provider,
    fetchResult: (jobId, options) => (resultsDown ? Promise.reject(new Error("result endpoint down")) : provider.fetchResult!(jobId, options)),
  },
  receiver: { port: 0 },
  storePath: join(await mkdtemp(join(tmpdir(), "hookscribe-dlq-")), "store.json"),
  retry: { attempts: 3, minDelayMs: 50, maxDelayMs: 200 },
});

const job = client.transcribe("https://example.com/call.mp3");
while ((await client.deadLetters()).length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
const [letter] = await client.deadLetters();
console.log("dead letter:", letter);

resultsDown = false;
await client.replay(letter!.id);
console.log(`replayed; the waiting handle resolved: ${(await job).text}`);
console.log(`dead letters left: ${(await client.deadLetters()).length}`);
await client.close();
await dev.close();
