/** Subtitles from word timings: toSrt() and toVtt() work on any Transcript, fresh or stored. */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Transcriber, genericProvider, toSrt, toVtt } from "hookscribe";
import { startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ publicDir: fileURLToPath(new URL("../samples/", import.meta.url)), processingDelayMs: 100 });
const client = new Transcriber({
  provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
  receiver: { port: 0 },
  storePath: join(await mkdtemp(join(tmpdir(), "hookscribe-captions-")), "store.json"),
});

const transcript = await client.transcribe(`${dev.url}/files/hello.wav`);
console.log(toSrt(transcript));
console.log(toVtt(transcript, { maxChars: 32 }));
await client.close();
await dev.close();
