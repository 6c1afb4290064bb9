import { type Command, Option } from "commander";
import { ConfigurationError } from "../errors/index.js";
import { DEFAULTS } from "../options.js";
import type { Logger } from "../shared/logger.js";
import type { Provider } from "../providers/provider.js";
import { CLI_PROVIDERS, CLI_PROVIDER_NAMES, type CliProviderName } from "./cli-providers.js";
import { Transcriber } from "../transcriber.js";
import { SCHEMA_NAME } from "../store/postgres/sql-identifier.js";
import { loadPostgres } from "./postgres-loader.js";

/** Which store a command uses: the JSON file, or the PostgreSQL store replicas share. */
export interface StoreFlags {
  store: string;
  /** `--database-url` or `DATABASE_URL`: the PostgreSQL store instead of the file. */
  databaseUrl?: string;
  /** The PostgreSQL schema of hookscribe's tables (with `databaseUrl`). */
  schema: string;
}

/** Flags every command that talks to a provider shares. */
export interface ProviderFlags extends StoreFlags {
  provider: CliProviderName;
  baseUrl?: string;
  region?: string;
  apiKey?: string;
  webhookSecret?: string;
  publicUrl?: string;
  host: string;
  port: number;
}

/**
 * `--store`, or `--database-url` (or `DATABASE_URL`) and `--schema`: the file or the PostgreSQL
 * store. An explicit `--store` with `--database-url` is a usage error; an explicit `--store` wins
 * over a `DATABASE_URL` in the environment (a flag beats the environment).
 */
export function addStoreFlag(command: Command): Command {
  return command
    .option("--store <path>", "the JSON store file (its journal and transcripts sit beside it)", DEFAULTS.storePath)
    .addOption(
      new Option(
        "--database-url <url>",
        "use the PostgreSQL store replicas share instead of the file: postgres://user:password@host:5432/database (prefer DATABASE_URL: it keeps the password out of the process list)",
      )
        .env("DATABASE_URL")
        .argParser(parseDatabaseUrl),
    )
    .addOption(new Option("--schema <name>", "PostgreSQL schema of hookscribe's tables (with --database-url)").default(DEFAULT_SCHEMA).argParser(parseSchema))
    .hook("preAction", (_hooked, actionCommand) => chooseStore(actionCommand));
}

const DEFAULT_SCHEMA = "hookscribe";

/** Checks the flags `addStoreFlag` added, once they are all parsed; drops a `DATABASE_URL` an explicit `--store` overrides. */
function chooseStore(command: Command): void {
  const source = (key: keyof StoreFlags) => command.getOptionValueSource(key);
  const { databaseUrl } = command.opts<Partial<StoreFlags>>();
  if (databaseUrl !== undefined && (source("store") === "cli" || databaseUrl === "")) {
    if (source("databaseUrl") !== "env") {
      throw new ConfigurationError(
        databaseUrl === "" ? "--database-url is empty" : "give --store (the JSON file) or --database-url (the PostgreSQL store), not both",
      );
    }
    // An empty DATABASE_URL is no URL; an explicit --store beats the environment.
    command.setOptionValueWithSource("databaseUrl", undefined, "default");
  }
  if (source("schema") === "cli" && command.opts<Partial<StoreFlags>>().databaseUrl === undefined) {
    throw new ConfigurationError("--schema is the PostgreSQL schema: give it with --database-url (or DATABASE_URL)");
  }
}

/** `value` if it is a PostgreSQL URL. The URL is never repeated in a message: it may hold a password. */
function parseDatabaseUrl(value: string): string {
  if (value === "") return value;
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new ConfigurationError("--database-url (or DATABASE_URL) is not a URL; expected postgres://user:password@host:5432/database");
  }
  if (protocol !== "postgres:" && protocol !== "postgresql:") {
    throw new ConfigurationError(`--database-url (or DATABASE_URL) must be a postgres:// or postgresql:// URL, not ${protocol}//…`);
  }
  return value;
}

function parseSchema(value: string): string {
  if (!SCHEMA_NAME.test(value)) throw new ConfigurationError(`--schema must be lower-case letters, digits and _, starting with a letter or _, at most 48 characters; got ${JSON.stringify(value)}`);
  return value;
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

/**
 * A client built from the shared flags, on the JSON file or, with `--database-url`, on the
 * PostgreSQL store (loaded only then: `pg` is an optional peer dependency).
 */
export async function clientFrom(flags: ProviderFlags, extra: { logger?: Logger; timeoutMs?: number; port?: number; provider?: Provider } = {}): Promise<Transcriber> {
  const provider = extra.provider ?? providerFrom(flags);
  const store = flags.databaseUrl === undefined ? { storePath: flags.store } : { store: (await loadPostgres()).sharedStore(flags.databaseUrl, flags.schema) };
  return new Transcriber({
    provider,
    receiver: { host: flags.host, port: extra.port ?? flags.port, publicUrl: flags.publicUrl },
    ...store,
    logger: extra.logger,
    ...(extra.timeoutMs === undefined ? {} : { timeoutMs: extra.timeoutMs }),
  });
}
