import ky, { HTTPError, type KyInstance } from "ky";
import { z } from "zod";
import { DELAYS_IN_ORDER, delaysInOrder } from "../validation/delays-in-order.js";
import { AbortError, FetchResultError, SubmitError } from "../errors/index.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import { verifyHmacHex } from "../verification/hmac-hex.js";
import {
  DEFAULT_TOLERANCE_SEC,
  hasStandardWebhookHeaders,
  verifyStandardWebhook,
} from "../verification/standard-webhooks.js";
import { type Secrets, headerValue } from "../verification/verification.js";
import { backoffDelay } from "../shared/backoff.js";
import {
  HMAC_SIGNATURE_HEADER,
  type TranscriptBody,
  errorResponseSchema,
  submitResponseSchema,
  transcriptBodySchema,
} from "./generic-wire.js";
import type { ProviderEvent } from "../domain/provider-event.js";
import { parsePayload } from "./parse-payload.js";
import type { Provider } from "./provider.js";

/**
 * Options of `genericProvider`, for any API that speaks the reference protocol (README, "The
 * reference protocol"). `baseUrl`, `apiKey` and `webhookSecret` are required; an unknown key is an error.
 */
export interface GenericProviderOptions {
  /**
   * API base URL, without the `/v1`. Required.
   * @example "https://stt.example.com"
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer {apiKey}` with every request. Required. */
  apiKey: string;
  /**
   * Secret the provider signs webhooks with; during a rotation, an array of the old and the new
   * one (either verifies). Required.
   * @example ["whsec_new...", "whsec_old..."]
   */
  webhookSecret: string | string[];
  /**
   * Allowed clock difference for Standard Webhooks timestamps, in seconds.
   * @default 300 (5 minutes)
   */
  toleranceSec?: number;
  /**
   * Timeout of one submit or result request, in ms.
   * @default 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Retries of a submit or result request on network errors, 408, 429 and 5xx. A retried submit
   * carries the same `Idempotency-Key`.
   * @default every field at its own default
   */
  retry?: GenericProviderRetryOptions;
  /**
   * Name used in webhook paths and `Transcript.provider`: lower-case letters, digits and dashes.
   * @default "generic"
   */
  name?: string;
}

/** `GenericProviderOptions.retry`: retries of one request to the provider's API, exponential with jitter. */
export interface GenericProviderRetryOptions {
  /**
   * Retries after the first attempt; `0` never retries.
   * @default 4
   */
  limit?: number;
  /**
   * First backoff delay, in ms; a `Retry-After` header from the provider wins.
   * @default 500
   */
  minDelayMs?: number;
  /**
   * Largest backoff delay, in ms.
   * @default 10_000
   */
  maxDelayMs?: number;
}

const retrySchema = z
  .strictObject({
    limit: z.number().int().nonnegative().default(4),
    minDelayMs: z.number().nonnegative().default(500),
    maxDelayMs: z.number().nonnegative().default(10_000),
  })
  .refine(delaysInOrder, DELAYS_IN_ORDER);

const optionsSchema = z.strictObject({
  baseUrl: z.string().url(),
  apiKey: z.string().min(1),
  webhookSecret: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  toleranceSec: z.number().positive().default(DEFAULT_TOLERANCE_SEC),
  requestTimeoutMs: z.number().int().positive().default(30_000),
  retry: retrySchema.prefault({}),
  name: z
    .string()
    .regex(/^[a-z0-9-]+$/, "must be lower-case letters, digits and dashes (it goes into the webhook path)")
    .default("generic"),
});

// Fails to compile when the interfaces above and the schema disagree on a field.
true satisfies Same<z.input<typeof retrySchema>, GenericProviderRetryOptions>;
true satisfies Same<z.input<typeof optionsSchema>, GenericProviderOptions>;

/** `GenericProviderOptions` with every default filled in. */
export type ResolvedGenericProviderOptions = z.output<typeof optionsSchema>;

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveGenericProviderOptions(options: GenericProviderOptions): ResolvedGenericProviderOptions {
  return parseOptions(optionsSchema, options, "genericProvider");
}

/** A provider that speaks the reference protocol: submit, signed webhooks, fetch by id. */
export function genericProvider(options: GenericProviderOptions): Provider {
  const config = resolveGenericProviderOptions(options);
  const secrets: Secrets = config.webhookSecret;
  const api: KyInstance = ky.create({
    prefixUrl: config.baseUrl.replace(/\/+$/, ""),
    headers: { authorization: `Bearer ${config.apiKey}` },
    timeout: config.requestTimeoutMs,
    retry: {
      limit: config.retry.limit,
      methods: ["get", "post"],
      statusCodes: [408, 429, 500, 502, 503, 504],
      afterStatusCodes: [429, 503],
      delay: (attempt) => backoffDelay(attempt, config.retry.minDelayMs, config.retry.maxDelayMs),
      retryOnTimeout: true,
    },
  });

  return {
    name: config.name,
    baseUrl: config.baseUrl,

    async submit(request, context) {
      try {
        const body = await api
          .post("v1/transcripts", {
            json: {
              audio_url: request.audioUrl,
              webhook_url: request.webhookUrl,
              language: request.language,
              metadata: request.metadata,
            },
            // The same key on every retry lets the provider answer a retried POST with the first job.
            headers: { "idempotency-key": context.idempotencyKey },
            signal: context.signal,
          })
          .json();
        const parsed = submitResponseSchema.safeParse(body);
        if (!parsed.success) {
          throw new SubmitError(`The provider accepted the submit but answered an unexpected body (${parsed.error.issues[0]?.message})`, {
            status: 201,
          });
        }
        return { jobId: parsed.data.job_id };
      } catch (error) {
        throw await toSubmitError(error, config.baseUrl, context.signal);
      }
    },

    authenticate({ headers, rawBody }) {
      if (hasStandardWebhookHeaders(headers)) {
        return verifyStandardWebhook(secrets, rawBody, headers, { toleranceSec: config.toleranceSec });
      }
      return verifyHmacHex(secrets, rawBody, headerValue(headers, HMAC_SIGNATURE_HEADER));
    },

    parse(body) {
      return toEvent(parsePayload(transcriptBodySchema, body, config.name, "webhook body"));
    },

    async fetchResult(jobId, fetchOptions) {
      let body: unknown;
      try {
        body = await api.get(`v1/transcripts/${encodeURIComponent(jobId)}`, { signal: fetchOptions?.signal }).json();
      } catch (error) {
        if ((error as Error).name === "AbortError") throw new AbortError(jobId, fetchOptions?.signal?.reason);
        const { status, providerMessage } = await describeHttpFailure(error);
        throw new FetchResultError(
          jobId,
          `Fetching job ${jobId} failed${status === undefined ? "" : ` with HTTP ${status}${hintFor(status)}`}: ${providerMessage ?? "no error text"}`,
          { status },
        );
      }
      return toEvent(parsePayload(transcriptBodySchema, body, config.name, `result of job ${jobId}`));
    },
  };
}

function toEvent(body: TranscriptBody): ProviderEvent {
  const event: ProviderEvent = { jobId: body.job_id, status: body.status, raw: body };
  if (body.status === "completed" && body.text !== undefined) {
    event.result = {
      text: body.text,
      words: body.words ?? [],
      language: body.language,
      durationSec: body.duration,
    };
  }
  if (body.status === "error") event.error = body.error;
  return event;
}

async function toSubmitError(error: unknown, baseUrl: string, signal: AbortSignal | undefined): Promise<Error> {
  if (error instanceof SubmitError) return error;
  if ((error as Error).name === "AbortError") return new AbortError(undefined, signal?.reason);
  const { status, providerMessage } = await describeHttpFailure(error);
  if (status === undefined) return new SubmitError(`Could not reach the provider at ${baseUrl}: ${providerMessage}`, {});
  return new SubmitError(`Submit failed with HTTP ${status}${hintFor(status)}: ${providerMessage ?? "no error text"}`, { status, providerMessage });
}

/**
 * Status and error text of a failed request. ky's errors are deliberately not kept as a `cause`:
 * they carry the request, and printing one (util.inspect, an uncaught error) would show the
 * `Authorization` header with the API key.
 */
async function describeHttpFailure(error: unknown): Promise<{ status?: number; providerMessage?: string }> {
  if (!(error instanceof HTTPError)) return { providerMessage: (error as Error).message };
  const text = await error.response.text().catch(() => "");
  try {
    return { status: error.response.status, providerMessage: errorResponseSchema.parse(JSON.parse(text)).error };
  } catch {
    return { status: error.response.status, providerMessage: text.slice(0, 200) || undefined };
  }
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return " (check apiKey)";
  if (status === 404) return " (check baseUrl: it should not include /v1)";
  if (status === 429) return " (rate limited, retries exhausted)";
  if (status >= 500) return " (provider error, retries exhausted)";
  return "";
}
