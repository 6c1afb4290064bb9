/**
 * `hookscribe/langchain`: hookscribe as a LangChain tool. The only part of hookscribe that
 * imports `@langchain/core` (an optional peer dependency). The core (the client, the error
 * classes) comes from the main entry `hookscribe`, so there is one copy of every class.
 */
export { createTranscribeTool } from "./transcribe-tool.js";
export type { TranscribeTool } from "./transcribe-tool.js";
export type { TranscribeToolOptions } from "./tool-options.js";
export { TranscribeToolError } from "./tool-error.js";
