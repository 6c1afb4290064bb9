import { z } from "zod";
import type { Provider } from "./providers/provider.js";
import type { Logger } from "./types.js";

const isProvider = (value: unknown): value is Provider =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Provider).name === "string" &&
  typeof (value as Provider).submit === "function" &&
  typeof (value as Provider).authenticate === "function" &&
  typeof (value as Provider).parse === "function";

/** A pino-compatible logger option, checked for the four methods hookscribe calls. */
export const loggerSchema = z.custom<Logger>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    ["debug", "info", "warn", "error"].every((level) => typeof (value as Record<string, unknown>)[level] === "function"),
  "logger must have debug, info, warn and error methods (pino-compatible)",
);

/** Defaults the `hookscribe` command shows in its help too. */
export const DEFAULTS = { host: "127.0.0.1", port: 8787, storePath: ".hookscribe/store.json" } as const;

/** Every `Transcriber` option, its type and its default, in one place. */
export const transcriberOptionsSchema = z.object({
  /** Who transcribes, e.g. `genericProvider({ baseUrl, apiKey, webhookSecret })`. Required. */
  provider: z.custom<Provider>(isProvider, "provider must be a Provider object, e.g. genericProvider({ baseUrl, apiKey, webhookSecret })"),
  /** The embedded webhook receiver. */
  receiver: z
    .object({
      /** Interface to listen on. Default `"127.0.0.1"`; use `"0.0.0.0"` behind a reverse proxy on another host. */
      host: z.string().min(1).default(DEFAULTS.host),
      /** Port to listen on; `0` picks a free one. Default `8787`. */
      port: z.number().int().min(0).max(65535).default(DEFAULTS.port),
      /** Base URL the provider reaches the receiver at (reverse proxy or tunnel). Default: `receiverUrl`. */
      publicUrl: z.string().url().optional(),
      /** Path prefix of webhook URLs. Default `"/webhooks"`. */
      path: z
        .string()
        .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'path must look like "/webhooks" (a leading slash, no trailing slash)')
        .default("/webhooks"),
      /** Largest webhook body accepted, in bytes; larger ones get `413`. Default 5 MiB. */
      maxBodyBytes: z.number().int().positive().default(5 * 1024 * 1024),
      /** Time a client has to send its request headers, in ms. Default `10000`. */
      headersTimeoutMs: z.number().int().positive().default(10_000),
      /** Time a client has to send its whole request, in ms. Default `30000`. */
      requestTimeoutMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  /** The lowdb JSON store; its journal and transcripts sit beside it. Default `".hookscribe/store.json"`. */
  storePath: z.string().min(1).default(DEFAULTS.storePath),
  /** Also fsync each store write, so acked deliveries survive power loss, not only a crash. Default `false`. */
  fsync: z.boolean().default(false),
  /** Processed jobs older than this are pruned with their transcripts, in ms. Default 7 days. */
  retentionMs: z.number().int().positive().default(7 * 24 * 60 * 60 * 1000),
  /** Worker pool size: terminal events processed at once. Default `4`. */
  concurrency: z.number().int().positive().default(4),
  /** Default per-job deadline in ms, measured from `transcribe()`; `0` waits forever. Default 1 hour. */
  timeoutMs: z.number().int().nonnegative().default(60 * 60 * 1000),
  /** Worker retries of a failing processing step, exponential with jitter. */
  retry: z
    .object({
      /** Attempts in all before the event becomes a dead letter. Default `5`. */
      attempts: z.number().int().positive().default(5),
      /** Smallest delay between attempts, in ms. Default `1000`. */
      minDelayMs: z.number().nonnegative().default(1000),
      /** Largest delay between attempts, in ms. Default `60000`. */
      maxDelayMs: z.number().nonnegative().default(60_000),
    })
    .prefault({}),
  /** Emit `'silence'` when jobs are pending and no webhook arrived for this long, in ms. Default 15 minutes. */
  silenceAlertMs: z.number().int().positive().default(15 * 60 * 1000),
  /** pino-compatible logger (`logger.info(obj, msg)`). Default: silent. */
  logger: loggerSchema.optional(),
});

/** Options of `new Transcriber(options)`; see each field for its default. */
export type TranscriberOptions = z.input<typeof transcriberOptionsSchema>;
export type ResolvedOptions = z.output<typeof transcriberOptionsSchema>;
