import { BaseChatModel, type BaseChatModelCallOptions, type BindToolsInput } from "@langchain/core/language_models/chat_models";
import type { ToolDefinition } from "@langchain/core/language_models/base";
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage, type ToolCall } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { ToolInputParsingException } from "@langchain/core/tools";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { ConfigurationError, TranscriptionError, TranscriptionTimeoutError, type TranscriptionJob } from "hookscribe";
import { createTranscribeTool } from "hookscribe/langchain";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Harness, SAMPLE_TEXT, harness, rejection, until } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.cleanup());

describe("createTranscribeTool(): the tool on its own, against the emulator", () => {
  it("returns the transcript text for an audio URL, with one submit", async () => {
    h = await harness();
    const transcribeAudio = createTranscribeTool(h.client);
    expect(transcribeAudio.name).toBe("transcribe_audio");
    expect(transcribeAudio.description).toMatch(/audio or video/);
    expect(transcribeAudio.description).toMatch(/minutes/);
    expect(transcribeAudio.description).toMatch(/Do not use it for text/);

    const result = await transcribeAudio.invoke({ audioUrl: "https://audio.example/call.wav" });
    expect(result).toBe(SAMPLE_TEXT);
    expect(h.dev.stats.submits).toBe(1);
    expect(h.dev.jobs()[0]!.audioUrl).toBe("https://audio.example/call.wav");
  });

  it('returns JSON with the job id, the language and word timings with output: "json"', async () => {
    h = await harness();
    const transcribeAudio = createTranscribeTool(h.client, { output: "json" });
    expect(transcribeAudio.description).toMatch(/start and end time/);

    const result = await transcribeAudio.invoke({ audioUrl: "https://audio.example/call.wav", language: "en" });
    const parsed = JSON.parse(result);
    expect(parsed).toMatchObject({ jobId: h.dev.jobs()[0]!.jobId, text: SAMPLE_TEXT, language: "en" });
    expect(parsed.durationSec).toBeGreaterThan(0);
    expect(parsed.words.map((w: { text: string }) => w.text)).toEqual(SAMPLE_TEXT.split(" "));
    for (const word of parsed.words) expect(word.end).toBeGreaterThanOrEqual(word.start);
    expect(parsed).not.toHaveProperty("raw");
  });

  it("rejects input that is not an http(s) URL before contacting the provider", async () => {
    h = await harness();
    const transcribeAudio = createTranscribeTool(h.client);
    for (const input of [{ audioUrl: "not a url" }, { audioUrl: "file:///home/me/call.wav" }, { language: "en" }]) {
      const error = await rejection(transcribeAudio.invoke(input as { audioUrl: string }));
      expect(error).toBeInstanceOf(ToolInputParsingException);
      expect(error.message).toMatch(/audioUrl/);
    }
    expect(h.dev.stats.submits).toBe(0);
  });

  it("throws an error naming the failure and the job id when the provider reports the job failed", async () => {
    h = await harness({ dev: { faults: { errorResult: true } } });
    const transcribeAudio = createTranscribeTool(h.client);
    const error = await rejection(transcribeAudio.invoke({ audioUrl: "https://audio.example/broken.wav" }));
    const jobId = h.dev.jobs()[0]!.jobId;
    expect(error.message).toMatch(/could not transcribe https:\/\/audio\.example\/broken\.wav/);
    expect(error.message).toContain(`job ${jobId} as failed`);
    expect(error.message).toMatch(/Simulated failure/);
    expect(error).toMatchObject({ name: "TranscribeToolError", jobId });
    expect(error.cause).toBeInstanceOf(TranscriptionError);
  });

  it("applies timeoutMs and says the job is kept under its id when the deadline passes", async () => {
    h = await harness({ dev: { processingDelayMs: 3000 } });
    const transcribeAudio = createTranscribeTool(h.client, { timeoutMs: 150 });
    const error = await rejection(transcribeAudio.invoke({ audioUrl: "https://audio.example/slow.wav" }));
    const jobId = h.dev.jobs()[0]!.jobId;
    expect(error.message).toContain(`still working on it as job ${jobId}`);
    expect(error.message).toMatch(/instead of calling the tool again/);
    expect(error).toMatchObject({ name: "TranscribeToolError", jobId });
    expect(error.cause).toBeInstanceOf(TranscriptionTimeoutError);
    expect(h.dev.stats.submits).toBe(1);
  });

  it("passes the run's AbortSignal to transcribe(): aborting stops the wait", async () => {
    h = await harness({ dev: { processingDelayMs: 3000 } });
    const transcribe = vi.spyOn(h.client, "transcribe");
    const transcribeAudio = createTranscribeTool(h.client);
    const controller = new AbortController();
    const call = rejection(transcribeAudio.invoke({ audioUrl: "https://audio.example/long.wav" }, { signal: controller.signal }));
    // Abort once the client has the job id, so the rejection can carry it.
    await until(() => (transcribe.mock.results[0]?.value as TranscriptionJob | undefined)?.jobId !== undefined);
    controller.abort();
    expect((await call).name).toBe("AbortError");

    expect(transcribe).toHaveBeenCalledTimes(1);
    const handle = transcribe.mock.results[0]!.value as TranscriptionJob;
    await expect(handle).rejects.toMatchObject({ name: "AbortError", jobId: h.dev.jobs()[0]!.jobId });
  });

  it("takes a name and a description, and rejects bad options with a ConfigurationError", async () => {
    h = await harness();
    const custom = createTranscribeTool(h.client, { name: "listen", description: "Listens to a recording." });
    expect(custom.name).toBe("listen");
    expect(custom.description).toBe("Listens to a recording.");
    expect(() => createTranscribeTool(h.client, { output: "xml" as "json" })).toThrow(ConfigurationError);
    expect(() => createTranscribeTool(h.client, { timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => createTranscribeTool(h.client, { name: "transcribe audio" })).toThrow(/name/);
  });
});

type ScriptedCallOptions = BaseChatModelCallOptions & { tools?: ToolDefinition[] };

/**
 * A stand-in for a tool-calling chat model. It decides like one would: asked about a recording
 * URL, it calls the bound tool whose description says it transcribes audio; given the tool's
 * result, it answers from it.
 */
class ScriptedChatModel extends BaseChatModel<ScriptedCallOptions> {
  /** The tools as the model received them, in OpenAI format (name, description, JSON schema). */
  seenTools: ToolDefinition[] = [];
  calls = 0;

  _llmType(): string {
    return "scripted";
  }

  override bindTools(tools: BindToolsInput[]) {
    return this.withConfig({ tools: tools.map((t) => convertToOpenAITool(t) as ToolDefinition) });
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    this.calls += 1;
    this.seenTools = options.tools ?? [];
    const last = messages.at(-1);
    let reply: AIMessage;
    if (last && ToolMessage.isInstance(last)) {
      reply =
        last.status === "error"
          ? new AIMessage(`Sorry, I could not transcribe the recording. ${String(last.content)}`)
          : new AIMessage(`The recording says: "${String(last.content)}".`);
    } else {
      const url = String(last?.content ?? "").match(/https?:\/\/\S+\.(wav|mp3|mp4)/)?.[0];
      const transcriber = this.seenTools.find((t) => /transcribes the speech/i.test(t.function.description ?? ""));
      reply =
        url && transcriber
          ? new AIMessage({ content: "", tool_calls: [{ id: "call_1", type: "tool_call", name: transcriber.function.name, args: { audioUrl: url } }] })
          : new AIMessage("I have no recording to transcribe.");
    }
    return { generations: [{ text: typeof reply.content === "string" ? reply.content : "", message: reply }] };
  }
}

/**
 * The agent loop, by hand: model → tool calls → ToolMessages → model, until the model answers.
 * A tool error becomes an error ToolMessage, as LangChain's createAgent does by default.
 */
async function runAgent(model: ScriptedChatModel, tools: ReturnType<typeof createTranscribeTool>[], question: string): Promise<BaseMessage[]> {
  const bound = model.bindTools(tools);
  const messages: BaseMessage[] = [new HumanMessage(question)];
  for (let turn = 0; turn < 5; turn += 1) {
    const reply = await bound.invoke(messages);
    messages.push(reply);
    if (!reply.tool_calls?.length) return messages;
    for (const call of reply.tool_calls as ToolCall[]) {
      const tool = tools.find((t) => t.name === call.name)!;
      try {
        messages.push(await tool.invoke({ ...call, type: "tool_call" }));
      } catch (error) {
        messages.push(new ToolMessage({ content: String(error), tool_call_id: call.id!, name: call.name, status: "error" }));
      }
    }
  }
  throw new Error("the agent did not finish");
}

describe("an agent loop with a fake chat model that decides to call transcribe_audio", () => {
  it("calls the tool once and answers from the transcript", async () => {
    h = await harness();
    const model = new ScriptedChatModel({});
    const messages = await runAgent(model, [createTranscribeTool(h.client)], "What is said in https://audio.example/meeting.wav ?");

    const [spec] = model.seenTools;
    expect(spec?.function.name).toBe("transcribe_audio");
    expect(spec?.function.parameters).toMatchObject({
      type: "object",
      required: ["audioUrl"],
      properties: { audioUrl: { type: "string", format: "uri" }, language: { type: "string" } },
    });

    expect(messages.map((m) => m.type)).toEqual(["human", "ai", "tool", "ai"]);
    const toolMessage = messages[2] as ToolMessage;
    expect(toolMessage).toMatchObject({ tool_call_id: "call_1", name: "transcribe_audio", status: "success", content: SAMPLE_TEXT });
    expect(messages.at(-1)!.content).toBe(`The recording says: "${SAMPLE_TEXT}".`);
    expect(model.calls).toBe(2);
    expect(h.dev.stats.submits).toBe(1);
    expect(h.dev.jobs()[0]!.audioUrl).toBe("https://audio.example/meeting.wav");
  });

  it("gets the provider's failure back as the tool result and reports it", async () => {
    h = await harness({ dev: { faults: { errorResult: true } } });
    const model = new ScriptedChatModel({});
    const messages = await runAgent(model, [createTranscribeTool(h.client)], "Summarise https://audio.example/broken.mp3 please");

    const jobId = h.dev.jobs()[0]!.jobId;
    expect((messages[2] as ToolMessage).status).toBe("error");
    const answer = String(messages.at(-1)!.content);
    expect(answer).toMatch(/^Sorry, I could not transcribe the recording\. TranscribeToolError: /);
    expect(answer).toContain(`job ${jobId} as failed`);
    expect(h.dev.stats.submits).toBe(1);
  });
});
