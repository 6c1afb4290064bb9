import { type DynamicStructuredTool, type ToolRunnableConfig, tool } from "@langchain/core/tools";
import type { z } from "zod";
import type { Transcriber } from "hookscribe";
import { defaultToolDescription } from "./tool-description.js";
import { toToolError } from "./tool-error.js";
import { type TranscribeToolInput, transcribeToolInput } from "./tool-input.js";
import { type TranscribeToolOptions, resolveToolOptions } from "./tool-options.js";
import { toolOutput } from "./tool-output.js";

/** The tool `createTranscribeTool` returns: input `{ audioUrl, language? }`, output a string. */
export type TranscribeTool = DynamicStructuredTool<typeof transcribeToolInput, TranscribeToolInput, z.input<typeof transcribeToolInput>, string>;

/**
 * A LangChain tool (default name `transcribe_audio`) that transcribes the recording at an
 * http(s) URL with `client.transcribe()` and returns the text, or JSON with word timings when
 * `output` is `"json"`.
 *
 * - Input is checked by the zod schema: anything but an http(s) `audioUrl` is rejected before
 *   the provider is contacted (LangChain throws a `ToolInputParsingException`).
 * - Failures throw (LangChain convention: the agent framework's error handling applies, e.g.
 *   `createAgent` hands the message to the model). The error's message is written for the
 *   model and names the job id when there is one; `cause` is the hookscribe error
 *   (`TranscriptionError`, `TranscriptionTimeoutError`, `SubmitError`, `ConfigurationError`).
 * - The run's `AbortSignal` (and a run `timeout`) is passed to `transcribe()`: cancelling the agent
 *   stops the wait. The job stays in the client's store, as for any cancelled handle.
 */
export function createTranscribeTool(client: Transcriber, options: TranscribeToolOptions = {}): TranscribeTool {
  const { output, timeoutMs, name, description } = resolveToolOptions(options);
  return tool(
    async ({ audioUrl, language }: TranscribeToolInput, config?: ToolRunnableConfig): Promise<string> => {
      try {
        const transcript = await client.transcribe(audioUrl, { language, timeoutMs, signal: config?.signal });
        return toolOutput(transcript, output);
      } catch (error) {
        throw toToolError(error, audioUrl);
      }
    },
    { name, description: description ?? defaultToolDescription(output), schema: transcribeToolInput },
  );
}
