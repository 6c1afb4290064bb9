import {
  type Provider,
  assemblyAIProvider,
  deepgramProvider,
  genericProvider,
  gladiaProvider,
  revAIProvider,
  speechmaticsProvider,
} from "hookscribe";
import { ConfigurationError } from "../errors/index.js";

/** What the command knows of a provider: where its key comes from, and how to build it from flags. */
interface CliProvider {
  /** The environment variable its users already keep the key in. */
  keyEnv: string;
  /** Builds it; a missing or misplaced flag is a `ConfigurationError` naming it. */
  create(settings: ProviderSettings): Provider;
}

interface ProviderSettings {
  apiKey?: string;
  baseUrl?: string;
  region?: string;
  webhookSecret?: string;
}

/** Leaves out what was not given, so each provider's own defaults apply and strict options stay happy. */
function given<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The key of a real provider, which needs no other flag; a stray `--webhook-secret` is refused. */
function keyOf(name: string, keyEnv: string, { apiKey, webhookSecret }: ProviderSettings): string {
  if (webhookSecret !== undefined) throw new ConfigurationError(`--webhook-secret is for the generic provider; ${name} signs nothing, hookscribe checks its own per-job secret`);
  if (!apiKey) throw new ConfigurationError(`missing the ${name} API key: pass --api-key or set ${keyEnv}`);
  return apiKey;
}

/** Every provider the command speaks, by its `--provider` name. */
export const CLI_PROVIDERS = {
  generic: {
    keyEnv: "HOOKSCRIBE_API_KEY",
    create({ apiKey, baseUrl, region, webhookSecret }) {
      if (region !== undefined) throw new ConfigurationError("--region is for real providers; the generic provider has only --base-url");
      const missing = [
        baseUrl ? undefined : "--base-url (or HOOKSCRIBE_BASE_URL)",
        apiKey ? undefined : "--api-key (or HOOKSCRIBE_API_KEY)",
        webhookSecret ? undefined : "--webhook-secret (or HOOKSCRIBE_WEBHOOK_SECRET)",
      ].filter(Boolean);
      if (missing.length > 0) throw new ConfigurationError(`missing ${missing.join(", ")}; \`hookscribe dev-provider\` prints working values for a local try`);
      return genericProvider({ baseUrl: baseUrl!, apiKey: apiKey!, webhookSecret: webhookSecret! });
    },
  },
  assemblyai: {
    keyEnv: "ASSEMBLYAI_API_KEY",
    create(settings) {
      const apiKey = keyOf("AssemblyAI", "ASSEMBLYAI_API_KEY", settings);
      const { baseUrl, region } = settings;
      return assemblyAIProvider({ apiKey, ...given({ baseUrl, region: region as "us" | "eu" | undefined }) });
    },
  },
  deepgram: {
    keyEnv: "DEEPGRAM_API_KEY",
    create(settings) {
      const apiKey = keyOf("Deepgram", "DEEPGRAM_API_KEY", settings);
      const { baseUrl, region } = settings;
      return deepgramProvider({ apiKey, ...given({ baseUrl, region: region as Parameters<typeof deepgramProvider>[0]["region"] }) });
    },
  },
  revai: {
    keyEnv: "REVAI_ACCESS_TOKEN",
    create(settings) {
      const apiKey = keyOf("Rev.ai", "REVAI_ACCESS_TOKEN", settings);
      const { baseUrl, region } = settings;
      return revAIProvider({ apiKey, ...given({ baseUrl, region: region as Parameters<typeof revAIProvider>[0]["region"] }) });
    },
  },
  speechmatics: {
    keyEnv: "SPEECHMATICS_API_KEY",
    create(settings) {
      const apiKey = keyOf("Speechmatics", "SPEECHMATICS_API_KEY", settings);
      const { baseUrl, region } = settings;
      return speechmaticsProvider({ apiKey, ...given({ baseUrl, region: region as Parameters<typeof speechmaticsProvider>[0]["region"] }) });
    },
  },
  gladia: {
    keyEnv: "GLADIA_API_KEY",
    create(settings) {
      const apiKey = keyOf("Gladia", "GLADIA_API_KEY", settings);
      const { baseUrl, region } = settings;
      if (region !== undefined) throw new ConfigurationError("--region: Gladia has one host for pre-recorded audio; use --base-url to point elsewhere");
      return gladiaProvider({ apiKey, ...given({ baseUrl }) });
    },
  },
} satisfies Record<string, CliProvider>;

export type CliProviderName = keyof typeof CLI_PROVIDERS;
export const CLI_PROVIDER_NAMES = Object.keys(CLI_PROVIDERS) as CliProviderName[];
