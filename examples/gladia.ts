/**
 * Gladia, against the emulator's `gladia` dialect. With a real key, drop the emulator and give the
 * receiver a public URL Gladia can reach:
 *
 *   new Transcriber({ provider: gladiaProvider({ apiKey: process.env.GLADIA_API_KEY! }), receiver: { publicUrl } })
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transcriber, gladiaProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ dialect: "gladia", engine: fixedTextEngine("hello from the gladia emulator"), processingDelayMs: 200 });

const client = new Transcriber({
  provider: gladiaProvider({ apiKey: dev.apiKey, baseUrl: dev.url }),
  receiver: { port: 0 },
  storePath: join(await mkdtemp(join(tmpdir(), "hookscribe-gladia-")), "store.json"),
});

try {
  // `language` becomes Gladia's language_config, `metadata` its custom_metadata (echoed in the callback).
  const transcript = await client.transcribe("https://example.com/call.mp3", { language: "en", metadata: { customer: "c-42" } });
  console.log(transcript.jobId, transcript.text);
  const [first] = transcript.words;
  console.log(`${transcript.words.length} words, "${first?.text}" from ${first?.start} s to ${first?.end} s, language ${transcript.language}`);
} finally {
  await client.close();
  await dev.close();
}
