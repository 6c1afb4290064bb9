import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Transcriber } from "../transcriber.js";
import { registerGetTranscriptTool } from "./get-transcript-tool.js";
import { type McpServerOptions, resolveMcpServerOptions } from "./options.js";
import { registerTranscribeAudioTool } from "./transcribe-audio-tool.js";

/**
 * An MCP server exposing `client` to LLM agents through two tools, `transcribe_audio` (submit and
 * wait for the webhook) and `get_transcript` (look a job up in the store). Not connected to any
 * transport: pass it to `connect()`, or use `serveMcpOverStdio`, which also starts and closes the
 * client. The client's receiver must be running for `transcribe_audio` to finish
 * (`transcribe()` starts it lazily).
 */
export function createMcpServer(client: Transcriber, options: McpServerOptions = {}): McpServer {
  const { name, version, timeoutMs, heartbeatMs } = resolveMcpServerOptions(options);
  const server = new McpServer(
    { name, version },
    {
      instructions:
        "Speech-to-text for audio at public http(s) URLs. Call transcribe_audio with the URL; " +
        "if it answers that the job is not finished yet, call get_transcript later with the job id it names.",
    },
  );
  registerTranscribeAudioTool(server, client, { timeoutMs, heartbeatMs });
  registerGetTranscriptTool(server, client);
  return server;
}
