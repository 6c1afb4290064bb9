import { z } from "zod";
import type { ProviderEvent } from "../domain/provider-event.js";
import type { Word } from "../domain/transcript.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import { headerValue } from "../verification/verification.js";
import {
  type TranscriptBody,
  type TranscriptRequestBody,
  errorResponseSchema,
  transcriptSchema,
  transcriptWordSchema,
  webhookNotificationSchema,
} from "./assemblyai-wire.js";
import { isJsonOrUntyped, parseJsonWebhook, parsePayload } from "./parse-payload.js";
import { type ProviderRequestOptions, createProviderApi, providerRequestShape } from "./provider-api.js";
import type { Provider } from "./provider.js";
import { regionalBaseUrl } from "./regional-base-url.js";
import { refuseReservedParams } from "./reserved-params.js";

const NAME = "assemblyai";

/** AssemblyAI's API host in each region it runs the pre-recorded API in. */
const REGION_BASE_URLS = { us: "https://api.assemblyai.com", eu: "https://api.eu.assemblyai.com" } as const;

/** The header AssemblyAI is asked to echo with every webhook of a job: it carries that job's own secret. */
export const WEBHOOK_SECRET_HEADER = "X-Hookscribe-Secret";

/**
 * AssemblyAI rejects a submit without `speech_models`. Universal-2 is in every version of its
 * model list and covers 99 languages, so it works for any `language`.
 */
const DEFAULT_SPEECH_MODELS = ["universal-2"];

/**
 * Fields of AssemblyAI's `POST /v2/transcript` sent with every submit. The common ones are typed;
 * any other documented field is sent as given. The fields hookscribe sets itself (`audio_url`,
 * `webhook_url`, `webhook_auth_header_name`, `webhook_auth_header_value`, `language_code`) are
 * rejected with a `ConfigurationError`.
 */
export interface AssemblyAIParams {
  /**
   * Speech models in priority order: AssemblyAI uses the first that supports the audio's language.
   * @default ["universal-2"]
   * @example ["universal-3-5-pro", "universal-2"]
   */
  speech_models?: string[];
  /**
   * Speaker diarization: every word gets a speaker label (`"A"`, `"B"`, …).
   * @default false (AssemblyAI's default)
   * @example true
   */
  speaker_labels?: boolean;
  /**
   * How many speakers diarization should look for, up to 10.
   * @default AssemblyAI's own estimate
   * @example 2
   */
  speakers_expected?: number;
  /**
   * Detect the dominant language instead of assuming one; for calls to `transcribe()` without a `language`.
   * @default false (AssemblyAI's default: `en_us` when no language is given)
   * @example true
   */
  language_detection?: boolean;
  /**
   * Words or phrases to recognise more readily (names, jargon).
   * @default none
   * @example ["hookscribe", "Kubernetes"]
   */
  keyterms_prompt?: string[];
  /**
   * Automatic punctuation.
   * @default true (AssemblyAI's default)
   * @example false
   */
  punctuate?: boolean;
  /**
   * Text formatting: casing, numbers written as digits.
   * @default true (AssemblyAI's default)
   * @example false
   */
  format_text?: boolean;
  /**
   * Redact personal data from the text; `redact_pii_policies` says which kinds.
   * @default false
   * @example true
   */
  redact_pii?: boolean;
  /**
   * Kinds of personal data to redact when `redact_pii` is on.
   * @default none
   * @example ["person_name", "phone_number"]
   */
  redact_pii_policies?: string[];
  /**
   * Also produce a redacted copy of the audio. AssemblyAI announces it with a second webhook that
   * names no transcript; hookscribe answers it `200` and ignores it.
   * @default false
   * @example true
   */
  redact_pii_audio?: boolean;
  /** Any other field of AssemblyAI's `POST /v2/transcript`, e.g. `{ multichannel: true }`. */
  [field: string]: unknown;
}

/**
 * Options of `assemblyAIProvider`. `apiKey` is required; an unknown key is an error, and so is
 * giving both `region` and `baseUrl`.
 */
export interface AssemblyAIProviderOptions extends ProviderRequestOptions {
  /** AssemblyAI API key, sent as `Authorization: {apiKey}` with every request. Required. */
  apiKey: string;
  /**
   * Where AssemblyAI runs your jobs: a shortcut for its regional `baseUrl`. Not together with `baseUrl`.
   * @default "us"
   * @example "eu" // https://api.eu.assemblyai.com
   */
  region?: "us" | "eu";
  /**
   * API base URL, without the `/v2`; for a proxy or the emulator. Not together with `region`.
   * @default "https://api.assemblyai.com" (the region's host)
   */
  baseUrl?: string;
  /**
   * Request fields merged into every submit.
   * @default { speech_models: ["universal-2"] }
   * @example { speech_models: ["universal-3-5-pro", "universal-2"], speaker_labels: true }
   */
  params?: AssemblyAIParams;
}

/** The fields hookscribe sets itself, and where each one's value comes from. */
const RESERVED_PARAMS = {
  audio_url: "the audio URL given to transcribe()",
  webhook_url: "the job's own webhook URL",
  webhook_auth_header_name: "the header carrying the job's webhook secret",
  webhook_auth_header_value: "the job's webhook secret",
  language_code: "transcribe()'s language option",
};

const paramsSchema = z
  .looseObject({
    speech_models: z.array(z.string().min(1)).min(1).default(DEFAULT_SPEECH_MODELS),
    speaker_labels: z.boolean().optional(),
    speakers_expected: z.number().int().positive().optional(),
    language_detection: z.boolean().optional(),
    keyterms_prompt: z.array(z.string().min(1)).optional(),
    punctuate: z.boolean().optional(),
    format_text: z.boolean().optional(),
    redact_pii: z.boolean().optional(),
    redact_pii_policies: z.array(z.string().min(1)).optional(),
    redact_pii_audio: z.boolean().optional(),
  })
  .superRefine(refuseReservedParams(RESERVED_PARAMS));

const optionsSchema = regionalBaseUrl(
  z.strictObject({
    apiKey: z.string().min(1),
    region: z.enum(["us", "eu"]).optional(),
    baseUrl: z.string().url().optional(),
    params: paramsSchema.prefault({}),
    ...providerRequestShape,
  }),
  (region) => REGION_BASE_URLS[region],
  REGION_BASE_URLS.us,
);

// Fails to compile when the interfaces above and the schemas disagree on a field.
true satisfies Same<z.input<typeof paramsSchema>, AssemblyAIParams>;
true satisfies Same<z.input<typeof optionsSchema>, AssemblyAIProviderOptions>;

/**
 * AssemblyAI's asynchronous speech-to-text: submit with a per-job webhook and auth header, thin
 * webhooks (`transcript_id`, `status`), the transcript fetched by id.
 */
export function assemblyAIProvider(options: AssemblyAIProviderOptions): Provider {
  const config = parseOptions(optionsSchema, options, "assemblyAIProvider");
  const { baseUrl } = config;
  const api = createProviderApi({
    provider: NAME,
    baseUrl,
    // AssemblyAI takes the bare key, without a scheme.
    headers: { authorization: config.apiKey },
    request: config,
    errorSchema: errorResponseSchema,
    errorText: (answer) => answer.error,
    idempotentSubmits: false,
  });

  return {
    name: NAME,
    baseUrl,

    async submit(request, context) {
      const body: TranscriptRequestBody = {
        ...config.params,
        audio_url: request.audioUrl,
        webhook_url: request.webhookUrl,
        webhook_auth_header_name: WEBHOOK_SECRET_HEADER,
        webhook_auth_header_value: request.webhookSecret,
        language_code: request.language === undefined ? undefined : toLanguageCode(request.language),
      };
      const transcript = await api.submit("v2/transcript", { json: body, signal: context.signal }, transcriptSchema);
      return { jobId: transcript.id };
    },

    acceptsContentType: isJsonOrUntyped,

    authenticate({ headers }, context) {
      const secret = headerValue(headers, WEBHOOK_SECRET_HEADER);
      if (secret === undefined) return { ok: false, reason: `missing ${WEBHOOK_SECRET_HEADER} header` };
      if (!context.isJobSecret(secret)) return { ok: false, reason: `${WEBHOOK_SECRET_HEADER} header does not match this job's secret` };
      return { ok: true };
    },

    parse(request) {
      const notification = parseJsonWebhook(request, webhookNotificationSchema, NAME);
      // The redacted copy of the audio is ready: nothing about the transcript's status.
      if (notification.status === "redacted_audio_ready") return null;
      return { jobId: notification.transcript_id, status: notification.status, raw: notification };
    },

    async fetchResult(jobId, fetchOptions) {
      const body = await api.fetch(`v2/transcript/${encodeURIComponent(jobId)}`, jobId, { signal: fetchOptions?.signal, retry: fetchOptions?.retry });
      return toEvent(parsePayload(transcriptSchema, body, NAME, `transcript ${jobId}`));
    },
  };
}

/** AssemblyAI's codes are lower case with underscores (`en_us`); a BCP 47 tag (`en-US`) is written that way. */
function toLanguageCode(language: string): string {
  return language.toLowerCase().replaceAll("-", "_");
}

/** A transcript as hookscribe's event: words from milliseconds to seconds, the failure message of an error. */
function toEvent(transcript: TranscriptBody): ProviderEvent {
  // The webhook URL carries the job's token: it has done its work and is not kept.
  const { webhook_url: _webhookUrl, ...raw } = transcript;
  const event: ProviderEvent = { jobId: transcript.id, status: transcript.status, raw };
  if (transcript.status === "completed") {
    event.result = {
      // AssemblyAI's schema allows a null text: audio without speech has none.
      text: transcript.text ?? "",
      words: (transcript.words ?? []).map(toWord),
      language: transcript.language_code ?? undefined,
      durationSec: transcript.audio_duration ?? undefined,
    };
  }
  if (transcript.status === "error" && transcript.error) event.error = transcript.error;
  return event;
}

function toWord(word: z.output<typeof transcriptWordSchema>): Word {
  const converted: Word = { text: word.text, start: word.start / 1000, end: word.end / 1000 };
  if (word.confidence !== undefined) converted.confidence = word.confidence;
  if (word.speaker) converted.speaker = word.speaker;
  return converted;
}
