import { z } from "zod";
import type { ProviderEvent } from "../domain/provider-event.js";
import type { TranscriptResult, Word } from "../domain/transcript.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import {
  GLADIA_KEY_HEADER,
  type GladiaCallback,
  type GladiaJobResponse,
  type GladiaSubmitBody,
  type GladiaTranscriptionResult,
  type GladiaUtterance,
  callbackSchema,
  errorResponseSchema,
  jobResponseSchema,
  submitResponseSchema,
} from "./gladia-wire.js";
import { isJsonOrUntyped, parseJsonWebhook, parsePayload } from "./parse-payload.js";
import { type ProviderRequestOptions, createProviderApi, providerRequestShape } from "./provider-api.js";
import type { Provider } from "./provider.js";
import { refuseReservedParams } from "./reserved-params.js";

const NAME = "gladia";
const GLADIA_BASE_URL = "https://api.gladia.io";

/** Speaker recognition settings, used when `diarization` is on. */
export interface GladiaDiarizationConfig {
  /**
   * The exact number of speakers, when known.
   * @default detected
   * @example 2
   */
  number_of_speakers?: number;
  /**
   * The fewest speakers to look for.
   * @default detected
   * @example 1
   */
  min_speakers?: number;
  /**
   * The most speakers to look for.
   * @default detected
   * @example 4
   */
  max_speakers?: number;
  [field: string]: unknown;
}

/** Subtitles settings, used when `subtitles` is on. */
export interface GladiaSubtitlesConfig {
  /**
   * The formats to produce, in the result's `transcription.subtitles`.
   * @default ["srt"] (Gladia's default)
   * @example ["srt", "vtt"]
   */
  formats?: ("srt" | "vtt")[];
  [field: string]: unknown;
}

/** Words to favour, used when `custom_vocabulary` is on. */
export interface GladiaCustomVocabularyConfig {
  /**
   * Words or `{ value, intensity?, pronunciations?, language? }` entries. Required.
   * @example ["Gladia", { value: "hookscribe", intensity: 0.6 }]
   */
  vocabulary: (string | { value: string; [field: string]: unknown })[];
  [field: string]: unknown;
}

/** Translation settings, used when `translation` is on. */
export interface GladiaTranslationConfig {
  /**
   * Languages to translate into, in the result's `translation`. Required.
   * @example ["fr", "de"]
   */
  target_languages: string[];
  [field: string]: unknown;
}

/**
 * Gladia request fields merged into every submit (`POST /v2/pre-recorded`). The common ones are
 * typed; any other field Gladia documents passes through as is. The fields hookscribe sets itself
 * are rejected with a `ConfigurationError`: `audio_url`, `callback`, `callback_config`,
 * `callback_url`, `language_config` (from `transcribe()`'s `language`) and `custom_metadata`
 * (from its `metadata`).
 */
export interface GladiaParams {
  /**
   * Speaker recognition: words then carry `speaker` (`"0"`, `"1"`, …).
   * @default false (Gladia's default)
   * @example true
   */
  diarization?: boolean;
  /**
   * Speaker recognition settings.
   * @default none
   * @example { min_speakers: 1, max_speakers: 4 }
   */
  diarization_config?: GladiaDiarizationConfig;
  /**
   * The transcription model.
   * @default "solaria-1" (Gladia's default)
   * @example "solaria-1"
   */
  model?: string;
  /**
   * Enhanced punctuation.
   * @default false (Gladia's default)
   * @example true
   */
  punctuation_enhanced?: boolean;
  /**
   * Sentences in the result's `transcription.sentences`.
   * @default false (Gladia's default)
   * @example true
   */
  sentences?: boolean;
  /**
   * Subtitles in the result's `transcription.subtitles`.
   * @default false (Gladia's default)
   * @example true
   */
  subtitles?: boolean;
  /**
   * Subtitles settings.
   * @default none
   * @example { formats: ["vtt"] }
   */
  subtitles_config?: GladiaSubtitlesConfig;
  /**
   * Favour the words of `custom_vocabulary_config`.
   * @default false (Gladia's default)
   * @example true
   */
  custom_vocabulary?: boolean;
  /**
   * The words to favour.
   * @default none
   * @example { vocabulary: ["Gladia", "hookscribe"] }
   */
  custom_vocabulary_config?: GladiaCustomVocabularyConfig;
  /**
   * Translation, in the result's `translation` (kept in `Transcript.raw`).
   * @default false (Gladia's default)
   * @example true
   */
  translation?: boolean;
  /**
   * Translation settings.
   * @default none
   * @example { target_languages: ["fr"] }
   */
  translation_config?: GladiaTranslationConfig;
  /**
   * A summary, in the result's `summarization` (kept in `Transcript.raw`).
   * @default false (Gladia's default)
   * @example true
   */
  summarization?: boolean;
  /**
   * Named entities, in the result's `named_entity_recognition` (kept in `Transcript.raw`).
   * @default false (Gladia's default)
   * @example true
   */
  named_entity_recognition?: boolean;
  /**
   * Sentiment analysis, in the result's `sentiment_analysis` (kept in `Transcript.raw`).
   * @default false (Gladia's default)
   * @example true
   */
  sentiment_analysis?: boolean;
  [field: string]: unknown;
}

/** Options of `gladiaProvider`. `apiKey` is required; an unknown key is an error. */
export interface GladiaProviderOptions extends ProviderRequestOptions {
  /** Sent as `x-gladia-key` with every request. Required. */
  apiKey: string;
  /**
   * API base URL. Gladia has no regional host for pre-recorded jobs, hence no `region` option.
   * @default "https://api.gladia.io"
   */
  baseUrl?: string;
  /**
   * Gladia request fields merged into every submit.
   * @default none
   * @example { diarization: true, diarization_config: { max_speakers: 3 } }
   */
  params?: GladiaParams;
}

/** The fields hookscribe sets itself, and where each one's value comes from. */
const RESERVED_PARAMS = {
  audio_url: "the audio URL given to transcribe()",
  callback: "its own callback, which resolves transcribe()",
  callback_config: "its own callback, which resolves transcribe()",
  callback_url: "its own callback, which resolves transcribe()",
  language_config: "transcribe()'s language option",
  custom_metadata: "transcribe()'s metadata option",
};

const paramsSchema = z
  .looseObject({
    diarization: z.boolean().optional(),
    diarization_config: z
      .looseObject({
        number_of_speakers: z.number().int().positive().optional(),
        min_speakers: z.number().int().positive().optional(),
        max_speakers: z.number().int().positive().optional(),
      })
      .optional(),
    model: z.string().min(1).optional(),
    punctuation_enhanced: z.boolean().optional(),
    sentences: z.boolean().optional(),
    subtitles: z.boolean().optional(),
    subtitles_config: z.looseObject({ formats: z.array(z.enum(["srt", "vtt"])).optional() }).optional(),
    custom_vocabulary: z.boolean().optional(),
    custom_vocabulary_config: z
      .looseObject({ vocabulary: z.array(z.union([z.string(), z.looseObject({ value: z.string() })])) })
      .optional(),
    translation: z.boolean().optional(),
    translation_config: z.looseObject({ target_languages: z.array(z.string().min(1)).min(1) }).optional(),
    summarization: z.boolean().optional(),
    named_entity_recognition: z.boolean().optional(),
    sentiment_analysis: z.boolean().optional(),
  })
  .superRefine(refuseReservedParams(RESERVED_PARAMS));

const optionsSchema = z.strictObject({
  apiKey: z.string().min(1),
  baseUrl: z.string().url().default(GLADIA_BASE_URL),
  params: paramsSchema.optional(),
  ...providerRequestShape,
});

// Fails to compile when the interfaces above and the schemas disagree on a field.
true satisfies Same<z.input<typeof paramsSchema>, GladiaParams>;
true satisfies Same<z.input<typeof optionsSchema>, GladiaProviderOptions>;

/**
 * Gladia's pre-recorded API (v2): submit with a per-job callback, whose body is the full result;
 * `GET /v2/pre-recorded/{id}` for the one status check at a deadline.
 */
export function gladiaProvider(options: GladiaProviderOptions): Provider {
  const config = parseOptions(optionsSchema, options, "gladiaProvider");
  const api = createProviderApi({
    provider: NAME,
    baseUrl: config.baseUrl,
    headers: { [GLADIA_KEY_HEADER]: config.apiKey },
    request: config,
    errorSchema: errorResponseSchema,
    errorText: (error) => (error.validation_errors?.length ? `${error.message} (${error.validation_errors.join("; ")})` : error.message),
    idempotentSubmits: false,
  });

  return {
    name: NAME,
    baseUrl: config.baseUrl,

    async submit(request, context) {
      const body: GladiaSubmitBody = {
        ...config.params,
        audio_url: request.audioUrl,
        callback: true,
        // The receiver takes POST only.
        callback_config: { url: request.webhookUrl, method: "POST" },
        // One language forces it; without one Gladia detects it.
        ...(request.language === undefined ? {} : { language_config: { languages: [request.language] } }),
        ...(request.metadata === undefined ? {} : { custom_metadata: request.metadata }),
      };
      const created = await api.submit("v2/pre-recorded", { json: body, signal: context.signal }, submitResponseSchema);
      return { jobId: created.id };
    },

    // Gladia documents JSON callbacks but not their headers: a callback without a Content-Type is still read.
    acceptsContentType: isJsonOrUntyped,

    // Gladia's callbacks carry no signature, header or secret of their own: the per-job token in the
    // callback URL, checked before this runs, is the only proof they come from the job's submit.
    authenticate: () => ({ ok: true }),

    parse(request) {
      return callbackEvent(parseJsonWebhook(request, callbackSchema, NAME));
    },

    async fetchResult(jobId, fetchOptions) {
      const body = await api.fetch(`v2/pre-recorded/${encodeURIComponent(jobId)}`, jobId, { signal: fetchOptions?.signal, retry: fetchOptions?.retry });
      return jobEvent(parsePayload(jobResponseSchema, body, NAME, `result of job ${jobId}`));
    },
  };
}

function callbackEvent(callback: GladiaCallback): ProviderEvent {
  if (callback.event === "transcription.success") {
    return { jobId: callback.id, status: "completed", result: toResult(callback.payload), raw: callback };
  }
  return { jobId: callback.id, status: "error", error: `${callback.error.message} (Gladia error code ${callback.error.code})`, raw: callback };
}

function jobEvent(answer: GladiaJobResponse): ProviderEvent {
  const job = withoutCallback(answer);
  switch (job.status) {
    case "done":
      return { jobId: job.id, status: "completed", result: toResult(job.result), raw: job };
    case "error":
      // Only the callback carries Gladia's failure message; a result has the code alone.
      return {
        jobId: job.id,
        status: "error",
        error: job.error_code == null ? "Gladia reported the job failed, without an error code" : `Gladia reported error code ${job.error_code}`,
        raw: job,
      };
    default:
      return { jobId: job.id, status: job.status, raw: job };
  }
}

/** The job as `raw` keeps it: without the callback URL, which carries the job's token. */
function withoutCallback(job: GladiaJobResponse): GladiaJobResponse {
  if (!job.request_params) return job;
  const { callback_config: _config, callback_url: _url, ...params } = job.request_params as Record<string, unknown>;
  return { ...job, request_params: params } as GladiaJobResponse;
}

/** `result` → `Transcript` fields. Times are already in seconds. */
function toResult(result: GladiaTranscriptionResult): TranscriptResult {
  const { transcription, metadata } = result;
  return {
    text: transcription.full_transcript,
    words: transcription.utterances.flatMap(wordsOf),
    language: transcription.languages[0] ?? transcription.utterances[0]?.language,
    durationSec: metadata.audio_duration,
  };
}

/** The utterance's words, with the speaker it belongs to; Gladia puts the separating space in front of a word. */
function wordsOf(utterance: GladiaUtterance): Word[] {
  const speaker = utterance.speaker === undefined ? {} : { speaker: String(utterance.speaker) };
  return utterance.words.map((word) => ({ text: word.word.trim(), start: word.start, end: word.end, confidence: word.confidence, ...speaker }));
}
