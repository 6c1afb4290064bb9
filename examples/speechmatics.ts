/**
 * Speechmatics through hookscribe, here against the local emulator of Speechmatics' batch API
 * (the "speechmatics" dialect). Against Speechmatics itself, build the provider with
 * `speechmaticsProvider({ apiKey: process.env.SPEECHMATICS_API_KEY! })` (or with a `region`) and
 * give the receiver a `publicUrl` Speechmatics can reach (reverse proxy or tunnel).
 */
import { Transcriber, speechmaticsProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ dialect: "speechmatics", engine: fixedTextEngine("Hello from the Speechmatics emulator."), processingDelayMs: 200 });

const client = new Transcriber({
  provider: speechmaticsProvider({ apiKey: dev.apiKey, baseUrl: dev.url, params: { transcription_config: { operating_point: "enhanced" } } }),
  receiver: { port: 0 },
  storePath: ".hookscribe/example-speechmatics-store.json",
});

try {
  // No language: Speechmatics identifies it ("auto"). The metadata comes back as tracking.details.
  const transcript = await client.transcribe("https://example.com/call.mp3", { metadata: { customer: "c-42" } });
  console.log(transcript.jobId, transcript.text);
  // Speechmatics sends punctuation as items of its own; the words are the spoken ones, in seconds.
  const last = transcript.words.at(-1);
  const { tracking } = (transcript.raw as { job: { tracking: { details: { customer: string } } } }).job;
  const words = `${transcript.words.length} words, the last "${last?.text}" ending at ${last?.end} s`;
  console.log(`${words}; language ${transcript.language}; customer ${tracking.details.customer}`);
} finally {
  await client.close();
  await dev.close();
}
