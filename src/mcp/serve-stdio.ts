import type { Readable, Writable } from "node:stream";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { silentLogger } from "../shared/logger.js";
import type { Transcriber } from "../transcriber.js";
import type { Logger } from "../shared/logger.js";
import { createMcpServer } from "./create-mcp-server.js";
import type { McpServerOptions } from "./options.js";

/** Options of `serveMcpOverStdio`. */
export interface McpStdioOptions extends McpServerOptions {
  /** Where protocol messages come from. Default `process.stdin`. */
  stdin?: Readable;
  /**
   * Where protocol messages go, and nothing else: a stray byte here breaks the client. Default
   * `process.stdout`.
   */
  stdout?: Writable;
  /** Lifecycle and protocol-error logs. Must not write to `stdout` (use stderr). Default: silent. */
  logger?: Logger;
}

/** A running stdio MCP server. */
export interface McpStdioHandle {
  /** The server, already connected. */
  readonly server: McpServer;
  /**
   * Settles once the server stopped (stdin ended, the transport closed, or `close()` was called)
   * and `client.close()` finished: fulfilled, or rejected with the error of the shutdown.
   */
  readonly closed: Promise<void>;
  /** Stops serving and closes the client (e.g. on SIGINT); same promise as `closed`. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Serves `client` over MCP on stdin/stdout, the way MCP clients launch local servers. Starts the
 * client first (store lock, receiver), so a bad configuration rejects here, before any protocol
 * traffic. From then on this owns the client: when stdin ends, which is how an MCP client says
 * it is done, or the transport closes, in-flight tool calls are cancelled (their jobs stay in the
 * store) and `client.close()` flushes and unlocks the store; then `closed` settles.
 */
export async function serveMcpOverStdio(client: Transcriber, options: McpStdioOptions = {}): Promise<McpStdioHandle> {
  const { stdin = process.stdin, stdout = process.stdout, logger = silentLogger, ...serverOptions } = options;
  const server = createMcpServer(client, serverOptions);
  await client.start();

  let finish!: (error?: unknown) => void;
  const closed = new Promise<void>((resolve, reject) => {
    finish = (error) => (error === undefined ? resolve() : reject(error));
  });
  // Awaiting `closed` is the caller's choice; a failed shutdown nobody awaits must not crash the process.
  closed.catch(() => undefined);

  let closing: Promise<void> | undefined;
  const close = (reason: string): Promise<void> => {
    // Deferred by a tick: `server.close()` calls back into `onclose` synchronously, and that
    // re-entrant call must find `closing` already set.
    closing ??= Promise.resolve().then(() => shutdown(reason));
    return closed;
  };
  const onStdinEnd = () => void close("stdin ended");
  // The client may stop reading our output before we stop writing (EPIPE); unhandled, that
  // error would crash the process instead of letting it shut down. It stays attached after the
  // shutdown because a response written during it can still fail that way.
  const onStdoutError = (error: Error) => {
    logger.warn({ err: error.message }, "MCP stdout failed; shutting down");
    void close("stdout failed");
  };

  async function shutdown(reason: string): Promise<void> {
    logger.info({ reason }, "MCP server stopping");
    stdin.off("end", onStdinEnd);
    stdin.off("close", onStdinEnd);
    let failure: unknown;
    try {
      // Closing the protocol aborts in-flight tool calls, so their waits end before the client closes.
      await server.close();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "closing the MCP transport failed");
    }
    try {
      await client.close();
    } catch (error) {
      failure = error;
      logger.error({ err: (error as Error).message }, "closing the hookscribe client failed");
    }
    logger.info({}, "MCP server stopped");
    // Never rejects itself: the outcome travels through `closed`, which always has a handler.
    finish(failure);
  }

  const transport = new StdioServerTransport(stdin, stdout);
  server.server.onerror = (error) => logger.warn({ err: error.message }, "MCP protocol error");
  server.server.onclose = () => void close("transport closed");
  // StdioServerTransport reads stdin but never notices its end; without this the server would
  // outlive the client that launched it.
  stdin.once("end", onStdinEnd);
  stdin.once("close", onStdinEnd);
  stdout.on("error", onStdoutError);
  try {
    await server.connect(transport);
  } catch (error) {
    await close("connect failed").catch(() => undefined);
    throw error;
  }
  logger.info({ receiverUrl: client.receiverUrl }, "MCP server listening on stdio");
  return { server, closed, close: () => close("close() called") };
}
