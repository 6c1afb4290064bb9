import { z } from "zod";
import type { ProviderEvent } from "../domain/provider-event.js";
import type { Word } from "../domain/transcript.js";
import { isLoopback } from "../shared/loopback.js";
import { ConfigurationError } from "../errors/index.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { headerValue } from "../verification/verification.js";
import {
  CALLBACK_SECRET_KEY,
  DG_TOKEN_HEADER,
  type DeepgramWord,
  type FailureCallback,
  type ListenResponse,
  REQUESTED_LANGUAGE_KEY,
  acceptedResponseSchema,
  callbackObjectSchema,
  callbackSecretSchema,
  errorResponseSchema,
  failureCallbackSchema,
  listenResponseSchema,
} from "./deepgram-wire.js";
import { isJsonOrUntyped, jsonOrUndefined, parseJsonWebhook, parsePayload } from "./parse-payload.js";
import { type ProviderRequestOptions, createProviderApi, providerRequestShape } from "./provider-api.js";
import type { Provider, SubmitRequest } from "./provider.js";
import { regionalBaseUrl } from "./regional-base-url.js";
import { refuseReservedParams } from "./reserved-params.js";

const NAME = "deepgram";
const DEFAULT_BASE_URL = "https://api.deepgram.com";

const REGIONS = ["eu", "au", "in", "us"] as const;

/** A Deepgram data-residency region, as a shortcut for its base URL. */
export type DeepgramRegion = (typeof REGIONS)[number];

/** Deepgram's data-residency hosts; a regional host fails rather than fall back to another region. */
const REGION_BASE_URLS: Record<DeepgramRegion, string> = {
  eu: "https://api.eu.deepgram.com",
  au: "https://api.au.deepgram.com",
  in: "https://api.in.deepgram.com",
  us: "https://api.us.deepgram.com",
};

/** The only ports Deepgram makes callbacks to. */
const CALLBACK_PORTS = [80, 443, 8080, 8443];

/** Longest `key:value` pair Deepgram accepts in `extra`. */
const MAX_EXTRA_PAIR_LENGTH = 2048;

/** One query parameter's value: an array is sent as the parameter repeated (`keyterm=a&keyterm=b`). */
export type DeepgramParamValue = string | number | boolean | string[];

/**
 * Query parameters of `POST /v1/listen`, sent with every submit. The common ones are typed below;
 * any other documented parameter can be given too and is sent as is. `callback`,
 * `callback_method`, `extra` and `language` are hookscribe's (the webhook, the per-job secret,
 * `transcribe()`'s `metadata` and `language`) and are refused here.
 */
export interface DeepgramParams {
  /**
   * Model to transcribe with.
   * @default Deepgram's default model
   * @example "nova-3"
   */
  model?: string;
  /**
   * Formats numbers, dates, currency and the like for reading, and punctuates.
   * @default Deepgram's default: off
   * @example true
   */
  smart_format?: boolean;
  /**
   * Adds punctuation and capitalisation; words then carry `punctuated_word`, which hookscribe uses as `Word.text`.
   * @default Deepgram's default: off
   * @example true
   */
  punctuate?: boolean;
  /**
   * Labels each word with a speaker number (`Word.speaker` `"0"`, `"1"`, …).
   * @default Deepgram's default: off
   * @example true
   */
  diarize?: boolean;
  /**
   * Detects the spoken language; the transcript's `language` is then the detected one.
   * @default Deepgram's default: off
   * @example true
   */
  detect_language?: boolean;
  /**
   * Splits the transcript into utterances (kept in `raw.results.utterances`).
   * @default Deepgram's default: off
   * @example true
   */
  utterances?: boolean;
  /**
   * Splits the transcript into paragraphs (kept in `raw`).
   * @default Deepgram's default: off
   * @example true
   */
  paragraphs?: boolean;
  /**
   * Terms to recognise better (Nova-3 models only).
   * @default none
   * @example ["hookscribe", "Deepgram"]
   */
  keyterm?: string | string[];
  /**
   * Labels for Deepgram's usage reports.
   * @default none
   * @example "billing-team"
   */
  tag?: string | string[];
  /** Any other `/v1/listen` query parameter, e.g. `{ numerals: true }`. */
  [name: string]: DeepgramParamValue | undefined;
}

/** Options of `deepgramProvider`. `apiKey` is required; an unknown key is an error. */
export interface DeepgramProviderOptions extends ProviderRequestOptions {
  /** Sent as `Authorization: Token {apiKey}`. Required. */
  apiKey: string;
  /**
   * The API Key Identifier of `apiKey` (not the key itself). When set, every callback must carry it
   * in its `dg-token` header. Deepgram calls that header a legacy check; the per-job secret it
   * echoes in the body is checked either way.
   * @default undefined (`dg-token` not checked)
   */
  apiKeyId?: string;
  /**
   * API base URL, without the `/v1`. Not together with `region`.
   * @default "https://api.deepgram.com", or the host of `region`
   * @example "https://api.eu.deepgram.com"
   */
  baseUrl?: string;
  /**
   * Data-residency region: `"eu"` is `https://api.eu.deepgram.com`, and so on for `"au"`, `"in"` and
   * `"us"`. Not together with `baseUrl`.
   * @default undefined (the global `https://api.deepgram.com`)
   */
  region?: DeepgramRegion;
  /**
   * Query parameters sent with every submit.
   * @default none: Deepgram's defaults
   * @example { model: "nova-3", smart_format: true, diarize: true }
   */
  params?: DeepgramParams;
}

/** The parameters hookscribe sets itself, and where each one's value comes from. */
const RESERVED_PARAMS = {
  callback: "the job's own webhook URL",
  callback_method: "POST, the method hookscribe's receiver takes",
  extra: "transcribe()'s metadata option and the job's webhook secret",
  language: "transcribe()'s language option",
};

const paramValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

const paramsSchema = z
  .object({
    model: z.string().min(1).optional(),
    smart_format: z.boolean().optional(),
    punctuate: z.boolean().optional(),
    diarize: z.boolean().optional(),
    detect_language: z.boolean().optional(),
    utterances: z.boolean().optional(),
    paragraphs: z.boolean().optional(),
    keyterm: z.union([z.string(), z.array(z.string())]).optional(),
    tag: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .catchall(paramValueSchema.optional())
  .superRefine(refuseReservedParams(RESERVED_PARAMS));

const optionsSchema = regionalBaseUrl(
  z.strictObject({
    apiKey: z.string().min(1),
    apiKeyId: z.string().min(1).optional(),
    baseUrl: z.string().url().optional(),
    region: z.enum(REGIONS).optional(),
    params: paramsSchema.default({}),
    ...providerRequestShape,
  }),
  (region) => REGION_BASE_URLS[region],
  DEFAULT_BASE_URL,
);

// Fails to compile when the interfaces above and the schema disagree on a field.
true satisfies Same<z.input<typeof optionsSchema>, DeepgramProviderOptions>;

/**
 * Deepgram's pre-recorded API with a callback: the submit answers a `request_id` at once and the
 * callback body is the whole result, the only copy (Deepgram keeps no result to fetch).
 */
export function deepgramProvider(options: DeepgramProviderOptions): Provider {
  const config = parseOptions(optionsSchema, options, "deepgramProvider");
  const { baseUrl } = config;
  const api = createProviderApi({
    provider: NAME,
    baseUrl,
    headers: { authorization: `Token ${config.apiKey}` },
    request: config,
    errorSchema: errorResponseSchema,
    errorText: (error) => (typeof error === "string" ? error : (error.err_msg ?? error.message ?? error.err_code ?? error.category)),
    idempotentSubmits: false,
  });

  return {
    name: NAME,
    baseUrl,

    async submit(request, context) {
      const searchParams = listenQuery(request, config.params);
      const accepted = await api.submit("v1/listen", { searchParams, json: { url: request.audioUrl }, signal: context.signal }, acceptedResponseSchema);
      return { jobId: accepted.request_id };
    },

    // Deepgram does not document the callback's content type: JSON, or none at all, is accepted.
    acceptsContentType: isJsonOrUntyped,

    authenticate({ headers, rawBody }, context) {
      if (config.apiKeyId !== undefined) {
        const dgToken = headerValue(headers, DG_TOKEN_HEADER);
        if (dgToken === undefined || !constantTimeEqual(dgToken, config.apiKeyId)) {
          return { ok: false, reason: `${DG_TOKEN_HEADER} header missing or not the configured apiKeyId` };
        }
      }
      const body = jsonOrUndefined(rawBody);
      const secret = callbackSecretSchema.safeParse(body).data?.metadata.extra[CALLBACK_SECRET_KEY];
      // A failure may come without the response's metadata, so without the echoed secret: the
      // job's URL token, already checked, is then its proof. A result always echoes the secret.
      if (secret === undefined && isFailureBody(body)) return { ok: true };
      if (secret === undefined) return { ok: false, reason: `no metadata.extra.${CALLBACK_SECRET_KEY} in the callback body` };
      if (!context.isJobSecret(secret)) return { ok: false, reason: `metadata.extra.${CALLBACK_SECRET_KEY} is not this job's secret` };
      return { ok: true };
    },

    parse(request) {
      const body = parseJsonWebhook(request, callbackObjectSchema, NAME);
      if ("results" in body) return resultEvent(parsePayload(listenResponseSchema, body, NAME, "callback body"));
      return failureEvent(parsePayload(failureCallbackSchema, body, NAME, "failure callback body"));
    },

    checkWebhookUrl(publicUrl) {
      // A receiver on loopback can only be meant for a local emulator, which calls back anywhere.
      if (isLoopback(publicUrl)) return;
      const url = new URL(publicUrl);
      const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
      if (!CALLBACK_PORTS.includes(port)) {
        throw new ConfigurationError(
          `Deepgram only calls back to ports ${CALLBACK_PORTS.join(", ")}, and receiver.publicUrl ${url.origin} uses port ${port}: ` +
            "expose the receiver on one of them (a reverse proxy or tunnel on 443)",
        );
      }
    },
  };
}

/**
 * The submit's query: `params`, then hookscribe's own fields. `metadata` and the per-job secret
 * travel as `extra` pairs, which Deepgram echoes in the callback's `metadata.extra`.
 */
function listenQuery(request: SubmitRequest, params: DeepgramParams): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(name, String(item));
  }
  query.set("callback", request.webhookUrl);
  query.set("callback_method", "POST");
  if (request.language !== undefined) query.set("language", request.language);
  for (const [key, value] of extraPairs(request)) query.append("extra", `${key}:${value}`);
  return query;
}

/** `metadata` as Deepgram's string pairs (other values as JSON), plus hookscribe's own keys. */
function extraPairs(request: SubmitRequest): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [key, value] of Object.entries(request.metadata ?? {})) {
    if (value === undefined) continue;
    const text = typeof value === "string" ? value : JSON.stringify(value);
    if (key === CALLBACK_SECRET_KEY || key === REQUESTED_LANGUAGE_KEY) {
      throw new ConfigurationError(`deepgramProvider: metadata.${key} is a key hookscribe sends itself in Deepgram's extra; rename it`);
    }
    if (key === "" || key.includes(":")) {
      throw new ConfigurationError(`deepgramProvider: metadata key ${JSON.stringify(key)} cannot be sent as Deepgram's extra key:value: it must be non-empty and have no ":"`);
    }
    if (key.length + 1 + text.length > MAX_EXTRA_PAIR_LENGTH) {
      throw new ConfigurationError(`deepgramProvider: metadata.${key} is too long: Deepgram takes at most ${MAX_EXTRA_PAIR_LENGTH} characters per key:value pair`);
    }
    pairs.push([key, text]);
  }
  pairs.push([CALLBACK_SECRET_KEY, request.webhookSecret]);
  if (request.language !== undefined) pairs.push([REQUESTED_LANGUAGE_KEY, request.language]);
  return pairs;
}

/**
 * A result: the first channel's best alternative (a multichannel result keeps the others in `raw`);
 * no alternative at all is an empty transcript.
 */
function resultEvent(body: ListenResponse): ProviderEvent {
  const [channel] = body.results.channels;
  const alternative = channel.alternatives[0];
  const language = channel.detected_language ?? body.metadata.extra?.[REQUESTED_LANGUAGE_KEY];
  return {
    jobId: body.metadata.request_id,
    status: "completed",
    result: {
      text: alternative?.transcript ?? "",
      words: (alternative?.words ?? []).map(toWord),
      ...(language === undefined ? {} : { language }),
      ...(body.metadata.duration === undefined ? {} : { durationSec: body.metadata.duration }),
    },
    raw: withoutSecret(body),
  };
}

function failureEvent(body: FailureCallback): ProviderEvent {
  return { jobId: (body.metadata?.request_id ?? body.request_id)!, status: "error", error: body.err_msg, raw: withoutSecret(body) };
}

/** A callback body without `results`, about a failure. */
function isFailureBody(body: unknown): boolean {
  return typeof body === "object" && body !== null && !("results" in body) && "err_msg" in body;
}

/** The body as `raw` is kept: without the per-job secret, which has done its work once the callback is authenticated. */
function withoutSecret<B extends ListenResponse | FailureCallback>(body: B): B {
  const extra = body.metadata?.extra;
  if (extra?.[CALLBACK_SECRET_KEY] === undefined) return body;
  const { [CALLBACK_SECRET_KEY]: _secret, ...echoed } = extra;
  return { ...body, metadata: { ...body.metadata, extra: echoed } };
}

function toWord(word: DeepgramWord): Word {
  return {
    text: word.punctuated_word ?? word.word,
    start: word.start,
    end: word.end,
    ...(word.confidence === undefined ? {} : { confidence: word.confidence }),
    ...(word.speaker === undefined ? {} : { speaker: String(word.speaker) }),
  };
}
