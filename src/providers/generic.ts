import { z } from "zod";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import { verifyHmacHex } from "../verification/hmac-hex.js";
import {
  DEFAULT_TOLERANCE_SEC,
  hasStandardWebhookHeaders,
  verifyStandardWebhook,
} from "../verification/standard-webhooks.js";
import { type Secrets, headerValue } from "../verification/verification.js";
import {
  HMAC_SIGNATURE_HEADER,
  type TranscriptBody,
  errorResponseSchema,
  submitResponseSchema,
  transcriptBodySchema,
} from "./generic-wire.js";
import type { ProviderEvent } from "../domain/provider-event.js";
import { isJsonContentType, parseJsonWebhook, parsePayload } from "./parse-payload.js";
import { type ProviderRequestOptions, createProviderApi, providerRequestShape } from "./provider-api.js";
import type { Provider } from "./provider.js";

/**
 * Options of `genericProvider`, for any API that speaks the reference protocol (README, "The
 * reference protocol"). `baseUrl`, `apiKey` and `webhookSecret` are required; an unknown key is an error.
 */
export interface GenericProviderOptions extends ProviderRequestOptions {
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
   * Name used in webhook paths and `Transcript.provider`: lower-case letters, digits and dashes.
   * @default "generic"
   */
  name?: string;
}

const optionsSchema = z.strictObject({
  baseUrl: z.string().url(),
  apiKey: z.string().min(1),
  webhookSecret: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  toleranceSec: z.number().positive().default(DEFAULT_TOLERANCE_SEC),
  ...providerRequestShape,
  name: z
    .string()
    .regex(/^[a-z0-9-]+$/, "must be lower-case letters, digits and dashes (it goes into the webhook path)")
    .default("generic"),
});

// Fails to compile when the interfaces above and the schema disagree on a field.
true satisfies Same<z.input<typeof optionsSchema>, GenericProviderOptions>;

/** `GenericProviderOptions` with every default filled in. */
type ResolvedGenericProviderOptions = z.output<typeof optionsSchema>;

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveGenericProviderOptions(options: GenericProviderOptions): ResolvedGenericProviderOptions {
  return parseOptions(optionsSchema, options, "genericProvider");
}

/** A provider that speaks the reference protocol: submit, signed webhooks, fetch by id. */
export function genericProvider(options: GenericProviderOptions): Provider {
  const config = resolveGenericProviderOptions(options);
  const secrets: Secrets = config.webhookSecret;
  const api = createProviderApi({
    provider: config.name,
    baseUrl: config.baseUrl,
    headers: { authorization: `Bearer ${config.apiKey}` },
    request: config,
    errorSchema: errorResponseSchema,
    errorText: (answer) => answer.error,
    idempotentSubmits: true,
  });

  return {
    name: config.name,
    baseUrl: config.baseUrl,

    async submit(request, context) {
      const answer = await api.submit(
        "v1/transcripts",
        {
          json: {
            audio_url: request.audioUrl,
            webhook_url: request.webhookUrl,
            language: request.language,
            metadata: request.metadata,
          },
          // The same key on every retry lets the provider answer a retried POST with the first job.
          headers: { "idempotency-key": context.idempotencyKey },
          signal: context.signal,
        },
        submitResponseSchema,
      );
      return { jobId: answer.job_id };
    },

    acceptsContentType: isJsonContentType,

    authenticate({ headers, rawBody }) {
      if (hasStandardWebhookHeaders(headers)) {
        return verifyStandardWebhook(secrets, rawBody, headers, { toleranceSec: config.toleranceSec });
      }
      return verifyHmacHex(secrets, rawBody, headerValue(headers, HMAC_SIGNATURE_HEADER));
    },

    parse(request) {
      return toEvent(parseJsonWebhook(request, transcriptBodySchema, config.name));
    },

    async fetchResult(jobId, fetchOptions) {
      const body = await api.fetch(`v1/transcripts/${encodeURIComponent(jobId)}`, jobId, { signal: fetchOptions?.signal, retry: fetchOptions?.retry });
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
