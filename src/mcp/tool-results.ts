import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  AbortError,
  ConfigurationError,
  StoreError,
  SubmitError,
  TranscriptionError,
  TranscriptionTimeoutError,
  UnknownJobError,
} from "../errors/index.js";

/** A successful result: `text` for the model, `structured` for programs (checked against the tool's `outputSchema`). */
export function textResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}

/**
 * A failed call as a tool result (`isError: true`) rather than a protocol error, so the model
 * sees the message and can act on it. No `structuredContent`: clients validate it against the
 * output schema, which describes success.
 */
export function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: oneLine(message) }], isError: true };
}

/** What went wrong in `transcribe_audio` or `get_transcript`, in one line that says what to do next. */
export function describeToolFailure(error: unknown, context: { jobId?: string; timeoutMs?: number } = {}): string {
  const jobId = (error instanceof Error ? (error as { jobId?: string }).jobId : undefined) ?? context.jobId;
  if (error instanceof TranscriptionTimeoutError) {
    const waited = context.timeoutMs ? ` after ${Math.round(context.timeoutMs / 1000)} s` : "";
    return jobId === undefined
      ? `The provider did not accept the job${waited}; nothing was transcribed. Try transcribe_audio again later.`
      : `Job ${jobId} is not finished${waited}; it keeps running at the provider. Call get_transcript with jobId "${jobId}" in a minute instead of submitting the audio again.`;
  }
  if (error instanceof TranscriptionError) {
    return `${error.message}. Check that audioUrl points to an audio file the provider can download, then call transcribe_audio again.`;
  }
  if (error instanceof SubmitError) return `${error.message}. ${submitAdvice(error.status)}`;
  if (error instanceof UnknownJobError) {
    return `No job "${error.jobId}" in this server's store: pass a jobId that transcribe_audio returned (finished jobs are forgotten after the retention period).`;
  }
  if (error instanceof AbortError) {
    return jobId === undefined
      ? "Cancelled before the provider accepted the job; call transcribe_audio again if the transcript is still needed."
      : `Stopped waiting for job ${jobId}; it keeps running at the provider. Call get_transcript with jobId "${jobId}" later.`;
  }
  // Configuration errors already name the option or the argument to change.
  if (error instanceof ConfigurationError) return error.message;
  if (error instanceof StoreError) return `The MCP server cannot use its job store: ${error.message}. Tell the user; retrying will not help until it is fixed.`;
  return `Transcription failed: ${error instanceof Error ? error.message : String(error)}`;
}

function submitAdvice(status: number | undefined): string {
  if (status === undefined || status === 408 || status === 429 || status >= 500) return "The provider is unavailable right now; try again in a few minutes.";
  if (status === 401 || status === 403 || status === 404) return "The MCP server's provider settings are wrong; tell the user to fix its configuration.";
  return "Check audioUrl and language, then try again.";
}

/** Tool messages are single lines: models and client UIs show them verbatim. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
