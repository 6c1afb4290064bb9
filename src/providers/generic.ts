import ky, { HTTPError, type KyInstance } from "ky";
import { z } from "zod";
import { HookscribeError, SubmitError } from "../errors/index.js";
import { verifyHmacHex } from "../verification/hmac-hex.js";
import {
  DEFAULT_TOLERANCE_SEC,
  hasStandardWebhookHeaders,
  verifyStandardWebhook,
} from "../verification/standard-webhooks.js";
import { type Secrets, headerValue } from "../verification/verification.js";
import { backoffDelay } from "../backoff.js";
import {
  HMAC_SIGNATURE_HEADER,
  type TranscriptBody,
  errorResponseSchema,
  submitResponseSchema,
  transcriptBodySchema,
} from "./generic-wire.js";
import type { Provider, ProviderEvent } from "./provider.js";

/** Options of `genericProvider`, for any API that speaks the reference protocol (DESIGN.md). */
export const genericProviderOptionsSchema = z.object({
  /** API base URL, e.g. `https://stt.example.com` (no trailing `/v1`). */
  baseUrl: z.string().url(),
  /** Sent as `Authorization: Bearer {apiKey}`. */
  apiKey: z.string().min(1, "apiKey is empty"),
  /** Secret(s) the provider signs webhooks with; several during a rotation. */
  webhookSecret: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Allowed clock difference for Standard Webhooks timestamps, in seconds. Default `300`. */
  toleranceSec: z.number().positive().default(DEFAULT_TOLERANCE_SEC),
  /** Per-request timeout of submits and result fetches, in ms. Default `30000`. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
  /** Retries of a submit or fetch on network errors, 408, 429 and 5xx. */
  retry: z
    .object({
      /** Retries after the first attempt. Default `4`. */
      limit: z.number().int().nonnegative().default(4),
      /** First backoff delay in ms (a `Retry-After` header wins). Default `500`. */
      minDelayMs: z.number().nonnegative().default(500),
      /** Largest backoff delay in ms. Default `10000`. */
      maxDelayMs: z.number().nonnegative().default(10_000),
    })
    .prefault({}),
  /** Name used in webhook paths and `Transcript.provider`. Default `"generic"`. */
  name: z
    .string()
    .regex(/^[a-z0-9-]+$/, "name must be lower-case letters, digits and dashes (it goes into the webhook path)")
    .default("generic"),
});
export type GenericProviderOptions = z.input<typeof genericProviderOptionsSchema>;

/** A provider that speaks the reference protocol: submit, signed webhooks, fetch by id. */
export function genericProvider(options: GenericProviderOptions): Provider {
  const config = genericProviderOptionsSchema.parse(options);
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
        throw await toSubmitError(error, config.baseUrl);
      }
    },

    authenticate({ headers, rawBody }) {
      if (hasStandardWebhookHeaders(headers)) {
        return verifyStandardWebhook(secrets, rawBody, headers, { toleranceSec: config.toleranceSec });
      }
      return verifyHmacHex(secrets, rawBody, headerValue(headers, HMAC_SIGNATURE_HEADER));
    },

    parse(body) {
      return toEvent(transcriptBodySchema.parse(body));
    },

    async fetchResult(jobId, fetchOptions) {
      let body: unknown;
      try {
        body = await api.get(`v1/transcripts/${encodeURIComponent(jobId)}`, { signal: fetchOptions?.signal }).json();
      } catch (error) {
        if ((error as Error).name === "AbortError") throw error;
        const { status, providerMessage } = await describeFailure(error);
        throw new HookscribeError(
          `Fetching job ${jobId} failed${status === undefined ? "" : ` with HTTP ${status}${hintFor(status)}`}: ${providerMessage ?? "no error text"}`,
        );
      }
      return toEvent(transcriptBodySchema.parse(body));
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

async function toSubmitError(error: unknown, baseUrl: string): Promise<unknown> {
  if (error instanceof SubmitError || (error as Error).name === "AbortError") return error;
  const { status, providerMessage } = await describeFailure(error);
  if (status === undefined) return new SubmitError(`Could not reach the provider at ${baseUrl}: ${providerMessage}`, {});
  return new SubmitError(`Submit failed with HTTP ${status}${hintFor(status)}: ${providerMessage ?? "no error text"}`, { status, providerMessage });
}

/**
 * Status and error text of a failed request. ky's errors are deliberately not kept as a `cause`:
 * they carry the request, and printing one (util.inspect, an uncaught error) would show the
 * `Authorization` header with the API key.
 */
async function describeFailure(error: unknown): Promise<{ status?: number; providerMessage?: string }> {
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
