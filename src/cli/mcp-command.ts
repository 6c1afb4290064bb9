import type { Command } from "commander";
import { serveMcpOverStdio } from "../mcp/index.js";
import { jsonLinesLogger } from "./json-lines-logger.js";
import { type ProviderFlags, addProviderFlags, clientFrom, parseMs } from "./provider-flags.js";
import { untilStopped } from "./signals.js";

interface McpFlags extends ProviderFlags {
  timeout?: number;
}

export function registerMcp(program: Command): void {
  const command = program
    .command("mcp")
    .description("run a Model Context Protocol server on stdio with the tools transcribe_audio and get_transcript");
  addProviderFlags(command)
    .option("--timeout <ms>", "longest a transcribe_audio call waits before answering with the job id (default 50000: MCP clients give up after about 60 s)", parseMs("--timeout"))
    .addHelpText(
      "after",
      `
stdout carries protocol messages only; logs go to stderr. The server stops when stdin closes.

An MCP client's configuration runs it.

Example:
  $ hookscribe mcp --base-url https://stt.example.com --public-url https://hooks.example.com --store ~/.hookscribe/store.json`,
    )
    .action(async (flags: McpFlags) => {
      const logger = jsonLinesLogger();
      const handle = await serveMcpOverStdio(await clientFrom(flags, { logger }), { logger, timeoutMs: flags.timeout });
      const stopped = untilStopped();
      await Promise.race([handle.closed, stopped.then(() => handle.close())]);
      await handle.closed;
    });
}
