/**
 * `npm run demo`: the whole flow in one process, no account, no network. It starts the local
 * provider emulator and the embedded receiver, transcribes the bundled sample, and shows what
 * happened on the wire.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Transcriber, genericProvider } from "hookscribe";
import { startDevProvider } from "hookscribe/dev";

const samples = fileURLToPath(new URL("../samples/", import.meta.url));

// The emulator serves samples/ and, like the default engine says, reads hello.txt next to hello.wav:
// it does not recognise speech, it shows the webhook flow.
const dev = await startDevProvider({ publicDir: samples, processingDelayMs: 1000 });
const client = new Transcriber({
  provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
  receiver: { port: 0 },
  storePath: join(await mkdtemp(join(tmpdir(), "hookscribe-demo-")), "store.json"),
});

try {
  const job = client.transcribe(`${dev.url}/files/hello.wav`, {
    onStatus: (status, jobId) => console.error(`  … ${status}${jobId ? ` (${jobId})` : ""}`),
  });
  const transcript = await job;
  const resolvedAt = Date.now();
  const finishedAt = dev.job(transcript.jobId)?.finishedAt ?? resolvedAt;

  console.log(`\ntranscript: ${transcript.text}`);
  console.log(`job id:     ${transcript.jobId}`);
  console.log(`words:      ${transcript.words.length}, ${transcript.durationSec?.toFixed(2)} s of audio`);
  console.log(`requests to the provider: ${dev.stats.requests} (polling every 3 s would have added one per interval)`);
  console.log(`await resolved ${resolvedAt - finishedAt} ms after the provider finished and sent its webhook`);
} finally {
  await client.close();
  await dev.close();
}
