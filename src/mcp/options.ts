import { z } from "zod";
import packageJson from "../../package.json" with { type: "json" };
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";

/** Options of `createMcpServer`. Every field is optional; an unknown key is an error. */
export interface McpServerOptions {
  /**
   * Server name announced to MCP clients in `initialize`.
   * @default "hookscribe"
   */
  name?: string;
  /**
   * Server version announced to MCP clients.
   * @default this package's version
   */
  version?: string;
  /**
   * How long `transcribe_audio` waits for the webhook before it answers with the job id instead
   * (`get_transcript` picks the job up later), in ms; `0` waits for as long as the client keeps
   * the call open. Most MCP clients abandon a request after 60 s, and an answer that carries the
   * job id is worth more to the model than the client's own timeout, which has none.
   * @default 50_000
   */
  timeoutMs?: number;
  /**
   * Interval of the "still waiting" progress notifications of `transcribe_audio`, in ms; sent
   * only when the caller asked for progress.
   * @default 5000
   */
  heartbeatMs?: number;
}

const optionsSchema = z.strictObject({
  name: z.string().min(1).default("hookscribe"),
  version: z.string().min(1).default(packageJson.version),
  timeoutMs: z.number().nonnegative().default(50_000),
  heartbeatMs: z.number().positive().default(5000),
});

// Fails to compile when the interface above and the schema disagree on a field.
true satisfies Same<z.input<typeof optionsSchema>, McpServerOptions>;

/** `McpServerOptions` with every default filled in. */
type ResolvedMcpServerOptions = z.output<typeof optionsSchema>;

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveMcpServerOptions(options: McpServerOptions = {}): ResolvedMcpServerOptions {
  return parseOptions(optionsSchema, options, "createMcpServer");
}
