/**
 * The MCP server of hookscribe: `transcribe_audio` and `get_transcript` over the Model Context
 * Protocol, for LLM agents. `hookscribe mcp` runs it on stdio.
 */
export { createMcpServer } from "./create-mcp-server.js";
export { serveMcpOverStdio } from "./serve-stdio.js";
export type { McpStdioHandle, McpStdioOptions } from "./serve-stdio.js";
export { DEFAULT_HEARTBEAT_MS, DEFAULT_MCP_TIMEOUT_MS } from "./options.js";
export type { McpServerOptions } from "./options.js";
export { TRANSCRIBE_AUDIO_TOOL } from "./transcribe-audio-tool.js";
export { GET_TRANSCRIPT_TOOL } from "./get-transcript-tool.js";
