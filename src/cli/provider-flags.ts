import { type Command, Option } from "commander";
import { ConfigurationError } from "../errors/index.js";
import { DEFAULTS } from "../options.js";
import type { Logger } from "../shared/logger.js";
import { genericProvider } from "../providers/generic.js";
import type { Provider } from "../providers/provider.js";
import { Transcriber } from "../transcriber.js";

/** Flags every command that talks to a provider shares. */
export interface ProviderFlags {
  provider: string;
  baseUrl?: string;
  apiKey?: string;
  webhookSecret?: string;
  publicUrl?: string;
  host: string;
  port: number;
  store: string;
}

const PROVIDERS = ["generic"];

export function addStoreFlag(command: Command): Command {
  return command.option("--store <path>", "the store file (its journal and transcripts sit beside it)", DEFAULTS.storePath);
}

export function addProviderFlags(command: Command): Command {
  addStoreFlag(command);
  return command
    .addOption(new Option("--provider <name>", "provider protocol").choices(PROVIDERS).default("generic"))
    .addOption(new Option("--base-url <url>", "provider API base URL").env("HOOKSCRIBE_BASE_URL"))
    .addOption(new Option("--api-key <key>", "provider API key").env("HOOKSCRIBE_API_KEY"))
    .addOption(new Option("--webhook-secret <secret>", "secret the provider signs webhooks with").env("HOOKSCRIBE_WEBHOOK_SECRET"))
    .option("--public-url <url>", "URL the provider reaches this machine's receiver at (reverse proxy or tunnel)")
    .option("--host <host>", "interface the receiver listens on", DEFAULTS.host)
    .option("--port <port>", "receiver port (0 = any free port)", parsePort, DEFAULTS.port);
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigurationError(`--port must be 0..65535, got ${value}`);
  return port;
}

export function parseMs(flag: string) {
  return (value: string): number => {
    const ms = Number(value);
    if (!Number.isInteger(ms) || ms < 0) throw new ConfigurationError(`${flag} must be a whole number of milliseconds, got ${value}`);
    return ms;
  };
}

function providerFrom(flags: ProviderFlags): Provider {
  const missing = [
    flags.baseUrl ? undefined : "--base-url (or HOOKSCRIBE_BASE_URL)",
    flags.apiKey ? undefined : "--api-key (or HOOKSCRIBE_API_KEY)",
    flags.webhookSecret ? undefined : "--webhook-secret (or HOOKSCRIBE_WEBHOOK_SECRET)",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigurationError(`missing ${missing.join(", ")}; \`hookscribe dev-provider\` prints working values for a local try`);
  }
  return genericProvider({ baseUrl: flags.baseUrl!, apiKey: flags.apiKey!, webhookSecret: flags.webhookSecret! });
}

/** A client built from the shared flags. */
export function clientFrom(flags: ProviderFlags, extra: { logger?: Logger; timeoutMs?: number; port?: number } = {}): Transcriber {
  return new Transcriber({
    provider: providerFrom(flags),
    receiver: { host: flags.host, port: extra.port ?? flags.port, publicUrl: flags.publicUrl },
    storePath: flags.store,
    logger: extra.logger,
    ...(extra.timeoutMs === undefined ? {} : { timeoutMs: extra.timeoutMs }),
  });
}
