/**
 * AssemblyAI through hookscribe, here against the local emulator of AssemblyAI's API (the
 * "assemblyai" dialect). Against AssemblyAI itself, build the provider with
 * `assemblyAIProvider({ apiKey: process.env.ASSEMBLYAI_API_KEY! })` and give the receiver a
 * `publicUrl` AssemblyAI can reach (reverse proxy or tunnel).
 */
import { Transcriber, assemblyAIProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const dev = await startDevProvider({ dialect: "assemblyai", engine: fixedTextEngine("hello from the assemblyai emulator"), processingDelayMs: 200 });

const client = new Transcriber({
  provider: assemblyAIProvider({ apiKey: dev.apiKey, baseUrl: dev.url }),
  receiver: { port: 0 },
  storePath: ".hookscribe/example-assemblyai-store.json",
});

try {
  const transcript = await client.transcribe("https://example.com/call.mp3", { language: "en" });
  console.log(transcript.jobId, transcript.text);
  // AssemblyAI reports word times in milliseconds; every Transcript has them in seconds.
  const last = transcript.words.at(-1);
  console.log(`${transcript.words.length} words, the last ending at ${last?.end} s; language ${transcript.language}`);
} finally {
  await client.close();
  await dev.close();
}
