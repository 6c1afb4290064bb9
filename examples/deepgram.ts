/**
 * Deepgram through hookscribe, here against the local emulator of Deepgram's API (the "deepgram"
 * dialect). Against Deepgram itself, build the provider with
 * `deepgramProvider({ apiKey: process.env.DEEPGRAM_API_KEY! })` and give the receiver a
 * `publicUrl` Deepgram can reach on port 80, 443, 8080 or 8443 (reverse proxy or tunnel).
 */
import { Transcriber, deepgramProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ dialect: "deepgram", engine: fixedTextEngine("Hello from the Deepgram emulator."), processingDelayMs: 200 });

const client = new Transcriber({
  provider: deepgramProvider({ apiKey: dev.apiKey, baseUrl: dev.url, params: { model: "nova-3", smart_format: true } }),
  receiver: { port: 0 },
  storePath: ".hookscribe/example-deepgram-store.json",
});

try {
  const transcript = await client.transcribe("https://example.com/call.mp3", { language: "en", metadata: { customer: "c-42" } });
  console.log(transcript.jobId, transcript.text);
  // The callback is Deepgram's whole response: hookscribe reads it, nothing is fetched afterwards.
  const raw = transcript.raw as { metadata: { extra: Record<string, string> } };
  console.log(`${transcript.words.length} words, the last "${transcript.words.at(-1)?.text}" ending at ${transcript.words.at(-1)?.end} s; customer ${raw.metadata.extra.customer}`);
} finally {
  await client.close();
  await dev.close();
}
