import { ConfigurationError } from "../errors/index.js";
import { assemblyAIProvider } from "../providers/assemblyai.js";
import { deepgramProvider } from "../providers/deepgram.js";
import { genericProvider } from "../providers/generic.js";
import { gladiaProvider } from "../providers/gladia.js";
import type { Provider } from "../providers/provider.js";
import { revAIProvider } from "../providers/revai.js";
import { speechmaticsProvider } from "../providers/speechmatics.js";

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

/**
 * A real provider, which needs its key and no other flag: a missing key, or a stray
 * `--webhook-secret`, is refused before `build` gets the key and the other settings.
 */
function realProvider(label: string, keyEnv: string, build: (apiKey: string, settings: ProviderSettings) => Provider): CliProvider {
  return {
    keyEnv,
    create(settings) {
      const { apiKey, webhookSecret } = settings;
      if (webhookSecret !== undefined) throw new ConfigurationError(`--webhook-secret is for the generic provider; ${label} signs nothing, hookscribe checks its own per-job secret`);
      if (!apiKey) throw new ConfigurationError(`missing the ${label} API key: pass --api-key or set ${keyEnv}`);
      return build(apiKey, settings);
    },
  };
}

/** A factory that takes `--base-url` and `--region`; it checks the region against its provider's own list. */
function withRegion<O extends { apiKey: string; baseUrl?: string; region?: string }>(factory: (options: O) => Provider) {
  return (apiKey: string, { baseUrl, region }: ProviderSettings): Provider => factory({ apiKey, ...given({ baseUrl, region }) } as O);
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
  assemblyai: realProvider("AssemblyAI", "ASSEMBLYAI_API_KEY", withRegion(assemblyAIProvider)),
  deepgram: realProvider("Deepgram", "DEEPGRAM_API_KEY", withRegion(deepgramProvider)),
  revai: realProvider("Rev.ai", "REVAI_ACCESS_TOKEN", withRegion(revAIProvider)),
  speechmatics: realProvider("Speechmatics", "SPEECHMATICS_API_KEY", withRegion(speechmaticsProvider)),
  gladia: realProvider("Gladia", "GLADIA_API_KEY", (apiKey, { baseUrl, region }) => {
    if (region !== undefined) throw new ConfigurationError("--region: Gladia has one host for pre-recorded audio; use --base-url to point elsewhere");
    return gladiaProvider({ apiKey, ...given({ baseUrl }) });
  }),
} satisfies Record<string, CliProvider>;

export type CliProviderName = keyof typeof CLI_PROVIDERS;
export const CLI_PROVIDER_NAMES = Object.keys(CLI_PROVIDERS) as CliProviderName[];
