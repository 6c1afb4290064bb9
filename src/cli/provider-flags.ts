import { type Command, Option } from "commander";
import { ConfigurationError } from "../errors/index.js";
import { DEFAULTS } from "../options.js";
import type { Logger } from "../shared/logger.js";
import type { Provider } from "../providers/provider.js";
import { CLI_PROVIDERS, CLI_PROVIDER_NAMES, type CliProviderName } from "./cli-providers.js";
import { Transcriber } from "../transcriber.js";

/** Flags every command that talks to a provider shares. */
export interface ProviderFlags {
  provider: CliProviderName;
  baseUrl?: string;
  region?: string;
  apiKey?: string;
  webhookSecret?: string;
  publicUrl?: string;
  host: string;
  port: number;
  store: string;
}

export function addStoreFlag(command: Command): Command {
  return command.option("--store <path>", "the store file (its journal and transcripts sit beside it)", DEFAULTS.storePath);
}

export function addProviderFlags(command: Command): Command {
  addStoreFlag(command);
  return command
    .addOption(new Option("--provider <name>", "who transcribes").choices(CLI_PROVIDER_NAMES).default("generic").env("HOOKSCRIBE_PROVIDER"))
    .addOption(new Option("--base-url <url>", "provider API base URL (or HOOKSCRIBE_BASE_URL; real providers: their own by default)"))
    .addOption(new Option("--region <region>", "the provider's regional host, e.g. eu (AssemblyAI, Deepgram, Rev.ai, Speechmatics)"))
    .addOption(
      new Option("--api-key <key>", `provider API key; default: the provider's usual variable (${CLI_PROVIDER_NAMES.map((name) => CLI_PROVIDERS[name].keyEnv).join(", ")})`),
    )
    .addOption(new Option("--webhook-secret <secret>", "secret the generic provider signs webhooks with (or HOOKSCRIBE_WEBHOOK_SECRET)"))
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

/** The provider the flags name, built from them. */
export function providerFrom(flags: ProviderFlags): Provider {
  const { keyEnv, create } = CLI_PROVIDERS[flags.provider];
  const { env } = process;
  // The HOOKSCRIBE_* variables describe the provider HOOKSCRIBE_PROVIDER names (generic by
  // default): a --provider that picks another one must not be sent to that one's base URL.
  const describedByEnv = flags.provider === (env.HOOKSCRIBE_PROVIDER || "generic");
  return create({
    apiKey: flags.apiKey ?? env[keyEnv],
    baseUrl: flags.baseUrl ?? (describedByEnv ? env.HOOKSCRIBE_BASE_URL || undefined : undefined),
    region: flags.region,
    webhookSecret: flags.webhookSecret ?? (describedByEnv && flags.provider === "generic" ? env.HOOKSCRIBE_WEBHOOK_SECRET || undefined : undefined),
  });
}

/** A client built from the shared flags. */
export function clientFrom(flags: ProviderFlags, extra: { logger?: Logger; timeoutMs?: number; port?: number; provider?: Provider } = {}): Transcriber {
  return new Transcriber({
    provider: extra.provider ?? providerFrom(flags),
    receiver: { host: flags.host, port: extra.port ?? flags.port, publicUrl: flags.publicUrl },
    storePath: flags.store,
    logger: extra.logger,
    ...(extra.timeoutMs === undefined ? {} : { timeoutMs: extra.timeoutMs }),
  });
}
