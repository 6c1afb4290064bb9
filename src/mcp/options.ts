import packageJson from "../../package.json" with { type: "json" };
import { ConfigurationError } from "../errors/index.js";

/** Options of `createMcpServer`. */
export interface McpServerOptions {
  /** Server name announced to MCP clients in `initialize`. Default `"hookscribe"`. */
  name?: string;
  /** Server version announced to MCP clients. Default: this package's version. */
  version?: string;
  /**
   * How long `transcribe_audio` waits for the webhook before it answers with the job id instead
   * (`get_transcript` picks the job up later); `0` waits for as long as the client keeps the call
   * open. Default 50 s: most MCP clients abandon a request after 60 s, and an answer that
   * carries the job id is worth more to the model than the client's own timeout, which has none.
   */
  timeoutMs?: number;
  /**
   * Interval of the "still waiting" progress notifications of `transcribe_audio`, sent only when
   * the caller asked for progress. Default 5 s.
   */
  heartbeatMs?: number;
}

/** `McpServerOptions` with every default applied. */
export interface ResolvedMcpServerOptions {
  name: string;
  version: string;
  timeoutMs: number;
  heartbeatMs: number;
}

export const DEFAULT_MCP_TIMEOUT_MS = 50_000;
export const DEFAULT_HEARTBEAT_MS = 5_000;

export function resolveMcpServerOptions(options: McpServerOptions = {}): ResolvedMcpServerOptions {
  return {
    name: options.name ?? "hookscribe",
    version: options.version ?? packageJson.version,
    timeoutMs: nonNegative("timeoutMs", options.timeoutMs ?? DEFAULT_MCP_TIMEOUT_MS),
    heartbeatMs: positive("heartbeatMs", options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS),
  };
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new ConfigurationError(`MCP server option ${name} must be a number of ms, 0 or more; got ${value}`);
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigurationError(`MCP server option ${name} must be a number of ms above 0; got ${value}`);
  return value;
}
