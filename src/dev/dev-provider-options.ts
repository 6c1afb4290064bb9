import { randomBytes } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { ConfigurationError } from "../errors/index.js";
import { silentLogger } from "../logger.js";
import { loggerSchema } from "../options.js";
import type { Logger } from "../types.js";
import { describeIssues } from "../describe-issues.js";
import { sidecarEngine } from "./sidecar-engine.js";
import type { TranscriptEngine } from "./transcript-engine.js";

/** Misbehaviours a real provider shows now and then, switched on to test a receiver against them. */
export interface DevProviderFaults {
  /** Answer the first N submits `503 {error}`, as during an outage. Default `0`. */
  failFirstSubmits?: number;
  /** Send every webhook message this many extra times after it was delivered. Default `0`. */
  duplicateDeliveries?: number;
  /**
   * Send the terminal webhook first, then a stale `processing` one (sent even when
   * `sendProcessingWebhook` is false). Default `false`.
   */
  outOfOrder?: boolean;
  /** Terminal webhooks carry only `job_id` and `status`; the result must be fetched. Default `false`. */
  thinPayloads?: boolean;
  /**
   * Finish the job at once (no delay, no `processing` webhook) and make the first attempt of its
   * terminal webhook before answering the submit `201`. Default `false`.
   */
  webhookBeforeSubmitResponse?: boolean;
  /**
   * End jobs with status `"error"` instead of running the engine: all of them (`true`) or those
   * whose audio URL the function picks. Default `false`.
   */
  errorResult?: boolean | ((audioUrl: string) => boolean);
}

/** Options of `startDevProvider`. */
export interface DevProviderOptions {
  /** Interface to listen on. Default `"127.0.0.1"`. */
  host?: string;
  /** Port to listen on; `0` picks a free one (read it from `DevProvider.url`). Default `0`. */
  port?: number;
  /** Bearer token the API requires. Default: random, `dev_` + 32 hex digits. */
  apiKey?: string;
  /** Secret that signs the webhooks. Default: random, `whsec_` + base64 of 24 random bytes. */
  webhookSecret?: string;
  /**
   * Time from the submit to the job finishing (longer if the engine is slower). The job turns
   * `processing` (and its webhook is sent) right after the submit is accepted. Default `1000`.
   */
  processingDelayMs?: number;
  /**
   * Spread job durations uniformly over `processingDelayMs ± processingJitterMs`, as real jobs
   * vary: with one fixed duration a poller whose interval divides it looks unrealistically good.
   * Default `0`.
   */
  processingJitterMs?: number;
  /** Send a `processing` webhook when a job starts. Default `true`. */
  sendProcessingWebhook?: boolean;
  /**
   * Waits before each retry of a webhook answered 5xx, timed out or not connected; once they are
   * used up the message is dead-lettered. Default `[1000, 2000, 4000, 8000, 16000, 32000]`.
   */
  retryDelaysMs?: number[];
  /** How long one webhook attempt may take before it counts as failed. Default `30000`. */
  deliveryTimeoutMs?: number;
  /** Produces the transcripts. Default {@link sidecarEngine}, which does not recognise speech. */
  engine?: TranscriptEngine;
  /** Directory served read-only at `GET /files/<name>`, e.g. bundled samples. Default: none. */
  publicDir?: string;
  /** Simulated provider misbehaviour. Default: none. */
  faults?: DevProviderFaults;
  /** pino-compatible logger; it never receives secrets, webhook URLs or transcript text. Default: silent. */
  logger?: Logger;
}

const DEFAULT_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 16000, 32000];

function aFunction<T>(what: string) {
  return z.custom<T>((value) => typeof value === "function", { message: `${what} must be a function` });
}

const faultsSchema = z.strictObject({
  failFirstSubmits: z.number().int().nonnegative().default(0),
  duplicateDeliveries: z.number().int().nonnegative().default(0),
  outOfOrder: z.boolean().default(false),
  thinPayloads: z.boolean().default(false),
  webhookBeforeSubmitResponse: z.boolean().default(false),
  errorResult: z.union([z.boolean(), aFunction<(audioUrl: string) => boolean>("faults.errorResult")]).default(false),
});

// The defaults live here, in one place; factories keep the random secrets fresh per emulator.
const optionsSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(0),
  apiKey: z.string().min(1).default(() => `dev_${randomBytes(16).toString("hex")}`),
  webhookSecret: z.string().min(1).default(() => `whsec_${randomBytes(24).toString("base64")}`),
  processingDelayMs: z.number().int().nonnegative().default(1000),
  processingJitterMs: z.number().int().nonnegative().default(0),
  sendProcessingWebhook: z.boolean().default(true),
  retryDelaysMs: z.array(z.number().int().nonnegative()).default(() => [...DEFAULT_RETRY_DELAYS_MS]),
  deliveryTimeoutMs: z.number().int().positive().default(30_000),
  engine: aFunction<TranscriptEngine>("engine").default(() => sidecarEngine),
  publicDir: z
    .string()
    .min(1)
    .transform((dir) => path.resolve(dir))
    .optional(),
  faults: faultsSchema.prefault({}),
  logger: loggerSchema.default(() => silentLogger),
});

export type ResolvedDevProviderOptions = z.output<typeof optionsSchema>;
export type ResolvedFaults = ResolvedDevProviderOptions["faults"];

/** Fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveDevProviderOptions(options: DevProviderOptions): ResolvedDevProviderOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigurationError(`startDevProvider: invalid options: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
