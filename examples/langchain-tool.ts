/**
 * hookscribe as a LangChain tool: `createTranscribeTool(client)` gives an agent a
 * `transcribe_audio` tool. Here it runs against the local emulator and is invoked directly, as an
 * agent framework would after the model asked for it:
 *
 *   npx tsx examples/langchain-tool.ts
 *
 * In an agent: `createAgent({ model, tools: [transcribeAudio] })` (package `langchain`), or
 * `model.bindTools([transcribeAudio])` and your own loop.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transcriber, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { createTranscribeTool } from "hookscribe/langchain";

const dev = await startDevProvider({ engine: fixedTextEngine("the meeting moves to thursday at ten"), processingDelayMs: 200 });
const dir = await mkdtemp(join(tmpdir(), "hookscribe-langchain-"));
const client = new Transcriber({
  provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
  receiver: { port: 0 },
  storePath: join(dir, "store.json"),
});

try {
  const transcribeAudio = createTranscribeTool(client, { timeoutMs: 10 * 60_000 });
  console.log(`tool: ${transcribeAudio.name}`);

  // What the model gets back: the transcript text.
  const text = await transcribeAudio.invoke({ audioUrl: "https://example.com/standup.mp3", language: "en" });
  console.log(`text: ${text}`);

  // With output: "json", word timings too; called with a tool call, the result is a ToolMessage.
  const withTimings = createTranscribeTool(client, { output: "json" });
  const message = await withTimings.invoke({
    id: "call_1",
    type: "tool_call",
    name: withTimings.name,
    args: { audioUrl: "https://example.com/standup.mp3" },
  });
  const { jobId, words } = JSON.parse(String(message.content)) as { jobId: string; words: { text: string; start: number }[] };
  console.log(`json: job ${jobId}, ${words.length} words, "${words[1]?.text}" at ${words[1]?.start} s`);
} finally {
  await client.close();
  await dev.close();
  await rm(dir, { recursive: true, force: true });
}
