/**
 * Rev.ai through hookscribe, here against the local emulator of Rev.ai's API (the "revai"
 * dialect). Against Rev.ai itself, build the provider with
 * `revAIProvider({ apiKey: process.env.REVAI_ACCESS_TOKEN! })` (add `region: "eu"` for an EU
 * token) and give the receiver a `publicUrl` Rev.ai can reach (reverse proxy or tunnel).
 */
import { Transcriber, revAIProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ dialect: "revai", engine: fixedTextEngine("Hello from the Rev.ai emulator."), processingDelayMs: 200 });

const client = new Transcriber({
  provider: revAIProvider({ apiKey: dev.apiKey, baseUrl: dev.url }),
  receiver: { port: 0 },
  storePath: ".hookscribe/example-revai-store.json",
});

try {
  const transcript = await client.transcribe("https://example.com/call.mp3", { language: "en", metadata: { customer: "c-42" } });
  console.log(transcript.jobId, transcript.text);
  // Rev.ai's webhook is thin: the job's details and its transcript were fetched once, after the ack.
  const last = transcript.words.at(-1);
  const { job } = transcript.raw as { job: { metadata: string } };
  console.log(`${transcript.words.length} words, the last "${last?.text}" ending at ${last?.end} s; speaker ${last?.speaker}; metadata ${job.metadata}`);
} finally {
  await client.close();
  await dev.close();
}
