import { randomBytes } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { type Logger, loggerSchema, silentLogger } from "../shared/logger.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import { DIALECT_NAMES, type DialectName } from "./dialect.js";
import { sidecarEngine } from "./sidecar-engine.js";
import type { TranscriptEngine } from "./transcript-engine.js";

/** Misbehaviours a real provider shows now and then, switched on to test a receiver against them. */
export interface DevProviderFaults {
  /**
   * Answer the first N submits `503 {error}`, as during an outage.
   * @default 0
   */
  failFirstSubmits?: number;
  /**
   * Send every webhook message this many extra times after it was delivered.
   * @default 0
   */
  duplicateDeliveries?: number;
  /**
   * Send the terminal webhook first, then a stale `processing` one (sent even when
   * `sendProcessingWebhook` is false). The generic dialect only: the real providers send one
   * terminal message per job.
   * @default false
   */
  outOfOrder?: boolean;
  /**
   * Terminal webhooks carry only `job_id` and `status`; the result must be fetched.
   * @default false
   */
  thinPayloads?: boolean;
  /**
   * Finish the job at once (no delay, no `processing` webhook) and make the first attempt of its
   * terminal webhook before answering the submit `201`.
   * @default false
   */
  webhookBeforeSubmitResponse?: boolean;
  /**
   * End jobs with status `"error"` instead of running the engine: all of them (`true`) or those
   * whose audio URL the function picks.
   * @default false
   * @example (audioUrl) => audioUrl.endsWith("/broken.wav")
   */
  errorResult?: boolean | ((audioUrl: string) => boolean);
}

/** Options of `startDevProvider`. Every field is optional; an unknown key is an error. */
export interface DevProviderOptions {
  /**
   * Whose wire format to speak: the reference protocol (`genericProvider`) or a real provider's
   * (paths, auth, payloads, status values, webhook auth and delivery rules), for its adapter.
   * @default "generic"
   */
  dialect?: DialectName;
  /**
   * Interface to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Port to listen on; `0` picks a free one (read it from `DevProvider.url`).
   * @default 0
   */
  port?: number;
  /**
   * API key the API requires, in the dialect's own header and scheme.
   * @default a random `dev_` followed by 32 hex digits
   */
  apiKey?: string;
  /**
   * Secret that signs the webhooks of the `generic` dialect (the real providers sign nothing); the
   * `deepgram` dialect sends it as its `dg-token` header, standing in for the API key's id.
   * @default a random `whsec_` followed by the base64 of 24 random bytes
   */
  webhookSecret?: string;
  /**
   * Time from the submit to the job finishing, in ms (longer if the engine is slower). The job
   * turns `processing` (and its webhook is sent) right after the submit is accepted.
   * @default 1000
   */
  processingDelayMs?: number;
  /**
   * Spread job durations uniformly over `processingDelayMs ± processingJitterMs`, as real jobs
   * vary: with one fixed duration a poller whose interval divides it looks unrealistically good.
   * @default 0
   */
  processingJitterMs?: number;
  /**
   * Send a `processing` webhook when a job starts.
   * @default true
   */
  sendProcessingWebhook?: boolean;
  /**
   * Waits before each retry of a webhook the dialect's sender retries (generic: 5xx, timed out or
   * not connected), in ms; once they are used up the message is dead-lettered.
   * @default the dialect's own schedule (generic: [1000, 2000, 4000, 8000, 16000, 32000])
   * @example [20, 40, 80] // in tests
   */
  retryDelaysMs?: number[];
  /**
   * How long one webhook attempt may take before it counts as failed, in ms.
   * @default 30_000
   */
  deliveryTimeoutMs?: number;
  /**
   * Produces the transcripts.
   * @default {@link sidecarEngine}, which does not recognise speech: it returns the text published next to the audio
   * @example fixedTextEngine("hello world")
   */
  engine?: TranscriptEngine;
  /**
   * Directory served read-only at `GET /files/<name>`, e.g. bundled samples.
   * @default none
   * @example "samples"
   */
  publicDir?: string;
  /**
   * Simulated provider misbehaviour.
   * @default none: every fault at its own default
   */
  faults?: DevProviderFaults;
  /**
   * A pino-compatible logger; it never receives secrets, webhook URLs or transcript text.
   * @default silent
   */
  logger?: Logger;
}

function aFunction<T>() {
  return z.custom<T>((value) => typeof value === "function", { message: "must be a function" });
}

const faultsSchema = z.strictObject({
  failFirstSubmits: z.number().int().nonnegative().default(0),
  duplicateDeliveries: z.number().int().nonnegative().default(0),
  outOfOrder: z.boolean().default(false),
  thinPayloads: z.boolean().default(false),
  webhookBeforeSubmitResponse: z.boolean().default(false),
  errorResult: z
    .union([z.boolean(), aFunction<(audioUrl: string) => boolean>()], { error: "must be true, false or a function (audioUrl) => boolean" })
    .default(false),
});

// Factories keep the random secrets fresh per emulator.
const optionsSchema = z.strictObject({
  dialect: z.enum(DIALECT_NAMES).default("generic"),
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(0),
  apiKey: z.string().min(1).default(() => `dev_${randomBytes(16).toString("hex")}`),
  webhookSecret: z.string().min(1).default(() => `whsec_${randomBytes(24).toString("base64")}`),
  processingDelayMs: z.number().int().nonnegative().default(1000),
  processingJitterMs: z.number().int().nonnegative().default(0),
  sendProcessingWebhook: z.boolean().default(true),
  retryDelaysMs: z.array(z.number().int().nonnegative()).optional(),
  deliveryTimeoutMs: z.number().int().positive().default(30_000),
  engine: aFunction<TranscriptEngine>().default(() => sidecarEngine),
  publicDir: z
    .string()
    .min(1)
    .transform((dir) => path.resolve(dir))
    .optional(),
  faults: faultsSchema.prefault({}),
  logger: loggerSchema.default(() => silentLogger),
});

// Fails to compile when the interfaces above and the schemas disagree on a field.
true satisfies Same<z.input<typeof faultsSchema>, DevProviderFaults>;
true satisfies Same<z.input<typeof optionsSchema>, DevProviderOptions>;

type ResolvedDevProviderOptions = z.output<typeof optionsSchema>;
export type ResolvedFaults = ResolvedDevProviderOptions["faults"];

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveDevProviderOptions(options: DevProviderOptions): ResolvedDevProviderOptions {
  return parseOptions(optionsSchema, options, "startDevProvider");
}
