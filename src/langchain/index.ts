/**
 * `hookscribe/langchain`: hookscribe as a LangChain tool. The only part of hookscribe that
 * imports `@langchain/core` (an optional peer dependency).
 */
export { createTranscribeTool } from "./transcribe-tool.js";
export type { TranscribeToolOptions } from "./tool-options.js";
