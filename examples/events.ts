/**
 * Events for code that does not hold the handle: 'transcript' once per job (also for jobs
 * resumed after a restart), 'silence' when jobs wait and no webhook arrives, 'delivery' for every
 * webhook the receiver answered.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transcriber, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

// The emulator sends every webhook three times: the event still fires once per job.
const dev = await startDevProvider({ engine: fixedTextEngine("one event per job"), processingDelayMs: 200, faults: { duplicateDeliveries: 2 } });
const client = new Transcriber({
  provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
  receiver: { port: 0 },
  storePath: join(await mkdtemp(join(tmpdir(), "hookscribe-events-")), "store.json"),
  silenceAlertMs: 60_000,
  logger: { debug() {}, info: (obj, msg) => console.log("info", msg, obj), warn: (obj, msg) => console.warn("warn", msg, obj), error: (obj, msg) => console.error("error", msg, obj) },
});

client.on("transcript", (transcript) => console.log(`'transcript' ${transcript.jobId}: ${transcript.text}`));
client.on("silence", (info) => console.warn(`'silence': ${info.pendingJobs} jobs pending, nothing heard for ${info.silentForMs} ms`));
const outcomes = new Map<string, number>();
client.on("delivery", (info) => outcomes.set(`${info.statusCode} ${info.outcome}`, (outcomes.get(`${info.statusCode} ${info.outcome}`) ?? 0) + 1));

await Promise.all(["a", "b", "c"].map((name) => client.transcribe(`https://example.com/${name}.mp3`)));
await client.close();
await dev.close();
console.log("'delivery':", [...outcomes].map(([outcome, count]) => `${count} × ${outcome}`).join(", "));
