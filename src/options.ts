import { z } from "zod";
import { delaysOutOfOrderIssue, delaysInOrder } from "./validation/delays-in-order.js";
import { type Logger, loggerSchema, silentLogger } from "./shared/logger.js";
import { parseOptions } from "./validation/parse-options.js";
import type { Provider } from "./providers/provider.js";
import type { Same } from "./validation/type-equality.js";
import { ConfigurationError } from "./errors/index.js";
import type { JobStore } from "./store/job-store.js";

/** Options of `new Transcriber(options)`. Only `provider` is required; an unknown key is an error. */
export interface TranscriberOptions {
  /**
   * Who transcribes: submits jobs, then verifies and reads their webhooks. Required.
   * @example genericProvider({ baseUrl: "https://stt.example.com", apiKey, webhookSecret })
   */
  provider: Provider;
  /**
   * The webhook receiver embedded in this process.
   * @default every field at its own default
   * @example { port: 8787, publicUrl: "https://hooks.example.com" }
   */
  receiver?: ReceiverOptions;
  /**
   * The JSON store file; its journal, transcripts and lock file sit beside it. One process at a
   * time uses it. `store` is the alternative.
   * @default ".hookscribe/store.json"
   */
  storePath?: string;
  /**
   * Another store instead of the JSON file, e.g. one several replicas share. Replaces `storePath`
   * (give one of the two) and `fsync`.
   * @default undefined (the JSON file at `storePath`)
   * @example postgresStore({ connectionString: process.env.DATABASE_URL }) // from "hookscribe/postgres"
   */
  store?: JobStore;
  /**
   * Also fsync each write of the JSON store, so acknowledged deliveries survive a power loss, not only a crash.
   * @default false
   */
  fsync?: boolean;
  /**
   * Processed jobs older than this are pruned with their transcripts, in ms.
   * @default 604_800_000 (7 days)
   */
  retentionMs?: number;
  /**
   * Result fetches to the provider at once (thin webhooks, failure messages). Processing that
   * needs no request to the provider (a full webhook) is not limited by it: up to 64 jobs are
   * processed at once.
   * @default 4
   */
  concurrency?: number;
  /**
   * Default deadline of a job in ms, from `transcribe()`; `0` waits forever. `transcribe(url, { timeoutMs })` overrides it.
   * @default 3_600_000 (1 hour)
   */
  timeoutMs?: number;
  /**
   * Retries of a failing processing step (e.g. fetching the result), exponential with jitter;
   * after the last attempt the event becomes a dead letter.
   * @default every field at its own default
   */
  retry?: RetryOptions;
  /**
   * Emit `'silence'` when jobs are pending and no webhook arrived for this long, in ms.
   * @default 900_000 (15 minutes)
   */
  silenceAlertMs?: number;
  /**
   * A pino-compatible logger (`logger.info(obj, msg)`). Entries never carry secrets, webhook
   * tokens or transcript text.
   * @default silent
   * @example pino({ level: "debug" })
   */
  logger?: Logger;
}

/** `TranscriberOptions.receiver`: the webhook receiver embedded in the process. */
export interface ReceiverOptions {
  /**
   * Interface to listen on; use `"0.0.0.0"` behind a reverse proxy on another host.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Port to listen on; `0` picks a free one (read it from `client.receiverUrl`).
   * @default 8787
   */
  port?: number;
  /**
   * Base URL the provider reaches the receiver at (a reverse proxy or tunnel). Needed as soon as
   * the provider is not on this machine.
   * @default the receiver's own URL, `client.receiverUrl`
   * @example "https://hooks.example.com"
   */
  publicUrl?: string;
  /**
   * Path prefix of the webhook URLs: a leading slash, no trailing slash.
   * @default "/webhooks"
   */
  path?: string;
  /**
   * Largest webhook body accepted, in bytes; a larger one is answered `413`.
   * @default 5_242_880 (5 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Time a client has to send its request headers, in ms.
   * @default 10_000
   */
  headersTimeoutMs?: number;
  /**
   * Time a client has to send its whole request, in ms.
   * @default 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Connections open at once; one more is closed as it arrives (providers retry). Bounds what
   * idle or slow clients can hold.
   * @default 512
   */
  maxConnections?: number;
  /**
   * Bytes of webhook bodies held in memory at once, over all requests; a delivery that would pass
   * it is answered `503` with `Retry-After`. At least `maxBodyBytes`.
   * @default 67_108_864 (64 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Deliveries accepted but not processed yet; past it deliveries are answered `503` with
   * `Retry-After` before their body is read (providers retry), so a burst the worker cannot keep
   * up with does not grow memory and the store without bound.
   * @default 10_000
   */
  maxBacklog?: number;
}

/** `TranscriberOptions.retry`: how the worker retries a failing processing step. */
export interface RetryOptions {
  /**
   * Attempts in all before the event becomes a dead letter.
   * @default 5
   */
  attempts?: number;
  /**
   * Smallest delay between attempts, in ms.
   * @default 1000
   */
  minDelayMs?: number;
  /**
   * Largest delay between attempts, in ms.
   * @default 60_000
   */
  maxDelayMs?: number;
}

const isProvider = (value: unknown): value is Provider =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Provider).name === "string" &&
  URL.canParse((value as Provider).baseUrl) &&
  ["submit", "acceptsContentType", "authenticate", "parse"].every((method) => typeof (value as Record<string, unknown>)[method] === "function");

const isJobStore = (value: unknown): value is JobStore =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as JobStore).location === "string" &&
  ["open", "close", "changeStatus", "claim", "takeOver", "completeDelivery", "watch"].every((method) => typeof (value as Record<string, unknown>)[method] === "function");

/** The longest delay a Node.js timer can wait; a longer one would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Defaults the `hookscribe` command shows in its help too. */
export const DEFAULTS = { host: "127.0.0.1", port: 8787, storePath: ".hookscribe/store.json" } as const;

const receiverSchema = z.strictObject({
  host: z.string().min(1).default(DEFAULTS.host),
  port: z.number().int().min(0).max(65535).default(DEFAULTS.port),
  publicUrl: z.string().url().optional(),
  path: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'must look like "/webhooks" (a leading slash, no trailing slash)')
    .default("/webhooks"),
  maxBodyBytes: z.number().int().positive().default(5 * 1024 * 1024),
  headersTimeoutMs: z.number().int().positive().default(10_000),
  requestTimeoutMs: z.number().int().positive().default(30_000),
  maxConnections: z.number().int().positive().default(512),
  maxBufferedBytes: z.number().int().positive().default(64 * 1024 * 1024),
  maxBacklog: z.number().int().positive().default(10_000),
}).refine((receiver) => receiver.maxBufferedBytes >= receiver.maxBodyBytes, {
  // A smaller budget could never hold a body of the largest size allowed.
  path: ["maxBufferedBytes"],
  when: (payload) => payload.issues.length === 0,
  error: (issue) => {
    const { maxBufferedBytes, maxBodyBytes } = issue.input as { maxBufferedBytes: number; maxBodyBytes: number };
    return `must be at least maxBodyBytes (${maxBufferedBytes} < ${maxBodyBytes})`;
  },
});

const workerRetrySchema = z
  .strictObject({
    attempts: z.number().int().positive().default(5),
    minDelayMs: z.number().nonnegative().default(1000),
    maxDelayMs: z.number().nonnegative().default(60_000),
  })
  .refine(delaysInOrder, delaysOutOfOrderIssue);

const transcriberOptionsSchema = z.strictObject({
  provider: z.custom<Provider>(isProvider, "must be a Provider object, e.g. genericProvider({ baseUrl, apiKey, webhookSecret })"),
  receiver: receiverSchema.prefault({}),
  storePath: z.string().min(1).default(DEFAULTS.storePath),
  store: z.custom<JobStore>(isJobStore, "must be a store, e.g. postgresStore({ connectionString }) from hookscribe/postgres").optional(),
  fsync: z.boolean().default(false),
  retentionMs: z.number().int().positive().default(7 * 24 * 60 * 60 * 1000),
  concurrency: z.number().int().positive().default(4),
  timeoutMs: z.number().int().nonnegative().max(MAX_TIMER_MS).default(60 * 60 * 1000),
  retry: workerRetrySchema.prefault({}),
  silenceAlertMs: z.number().int().positive().default(15 * 60 * 1000),
  logger: loggerSchema.default(() => silentLogger),
});

// Fails to compile when the interfaces above and the schema disagree on a field.
true satisfies Same<z.input<typeof receiverSchema>, ReceiverOptions>;
true satisfies Same<z.input<typeof workerRetrySchema>, RetryOptions>;
true satisfies Same<z.input<typeof transcriberOptionsSchema>, TranscriberOptions>;

/** `TranscriberOptions` with every default filled in. */
export type ResolvedOptions = z.output<typeof transcriberOptionsSchema>;

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveTranscriberOptions(options: TranscriberOptions): ResolvedOptions {
  if (typeof options === "object" && options !== null && options.store !== undefined && (options.storePath !== undefined || options.fsync !== undefined)) {
    throw new ConfigurationError(`Transcriber: give either store or storePath/fsync, not both (${options.storePath !== undefined ? "storePath" : "fsync"} is for the JSON file store)`);
  }
  return parseOptions(transcriberOptionsSchema, options, "Transcriber");
}
