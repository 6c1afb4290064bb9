/**
 * The MCP server of hookscribe: `transcribe_audio` and `get_transcript` over the Model Context
 * Protocol, for LLM agents. `hookscribe mcp` runs it on stdio.
 */
export { createMcpServer } from "./create-mcp-server.js";
export { serveMcpOverStdio } from "./serve-stdio.js";
export type { McpStdioHandle, McpStdioOptions } from "./serve-stdio.js";
export type { McpServerOptions } from "./options.js";
