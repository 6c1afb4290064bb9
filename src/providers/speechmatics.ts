import { z } from "zod";
import type { TranscriptResult, Word } from "../domain/transcript.js";
import { ProviderPayloadError } from "../errors/index.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import { bearerToken } from "../verification/bearer-token.js";
import type { WebhookRequest } from "../verification/webhook-request.js";
import { jsonOrUndefined, parsePayload } from "./parse-payload.js";
import { type ProviderRequestOptions, createProviderApi, providerRequestShape } from "./provider-api.js";
import type { Provider } from "./provider.js";
import { regionalBaseUrl } from "./regional-base-url.js";
import { refuseReservedParams } from "./reserved-params.js";
import {
  type JobConfig,
  type JobDetailsResponse,
  type RecognitionResult,
  type Transcript,
  UNKNOWN_SPEAKER,
  createJobResponseSchema,
  errorResponseSchema,
  jobDetailsResponseSchema,
  notificationQuerySchema,
  transcriptSchema,
} from "./speechmatics-wire.js";

/** Speechmatics' regional batch environments; a job lives in the region it was submitted to. */
export type SpeechmaticsRegion = "eu1" | "eu2" | "us1" | "us2" | "au1";

const NAME = "speechmatics";
const GLOBAL_BASE_URL = "https://asr.api.speechmatics.com";

/** The `transcription_config` fields most jobs set; `language` comes from `transcribe(url, { language })`. */
export interface SpeechmaticsTranscriptionConfig {
  /**
   * `"enhanced"` is slower and more accurate.
   * @default "standard"
   * @example "enhanced"
   */
  operating_point?: "standard" | "enhanced";
  /**
   * Label who speaks: by voice (`"speaker"`, words get `S1`, `S2`…) or by input channel.
   * @default "none"
   * @example "speaker"
   */
  diarization?: "none" | "speaker" | "channel" | "speaker_change" | "channel_and_speaker_change";
  /**
   * A model tuned for a field, on top of the language.
   * @default none
   * @example "finance"
   */
  domain?: string;
  /**
   * Spelling of the output, for languages with several.
   * @default the language's own
   * @example "en-GB"
   */
  output_locale?: string;
  /**
   * Words and phrases to recognise, with how they may sound.
   * @default none
   * @example [{ content: "hookscribe", sounds_like: ["hook scribe"] }]
   */
  additional_vocab?: { content: string; sounds_like?: string[] }[];
  /**
   * Dates, numbers and amounts as one written-form result each ("$10" rather than "ten dollars").
   * @default false
   * @example true
   */
  enable_entities?: boolean;
  /** Any other `transcription_config` field Speechmatics documents, e.g. `{ punctuation_overrides: { sensitivity: 0.4 } }`. */
  [field: string]: unknown;
}

/**
 * Job config fields merged into every submit (`POST /v2/jobs`, the `config` part). The common ones
 * are typed; any other documented field passes through as given. `type`, `fetch_data`,
 * `notification_config`, `transcription_config.language` and `tracking.details` are hookscribe's
 * (the audio URL, the webhook and its auth, `transcribe()`'s `language` and `metadata`): setting
 * one here is a `ConfigurationError`.
 */
export interface SpeechmaticsParams {
  /**
   * How to transcribe, besides the language.
   * @default none: Speechmatics' defaults
   * @example { operating_point: "enhanced", diarization: "speaker" }
   */
  transcription_config?: SpeechmaticsTranscriptionConfig;
  /**
   * Narrows language identification, used when `transcribe()` names no language.
   * @default none
   * @example { expected_languages: ["en", "de"], low_confidence_action: "allow" }
   */
  language_identification_config?: {
    expected_languages?: string[];
    low_confidence_action?: "allow" | "reject" | "use_default_language";
    default_language?: string;
    [field: string]: unknown;
  };
  /**
   * Job tracking data; `details` is `transcribe()`'s `metadata`.
   * @default none
   * @example { title: "Weekly sales call", reference: "crm/4711", tags: ["sales"] }
   */
  tracking?: { title?: string; reference?: string; tags?: string[]; [field: string]: unknown };
  /**
   * Translations added to the transcript (`raw.translations`).
   * @default none
   * @example { target_languages: ["de", "fr"] }
   */
  translation_config?: { target_languages: string[]; [field: string]: unknown };
  /** Any other job config field Speechmatics documents, e.g. `{ summarization_config: { summary_type: "bullets" } }`. */
  [field: string]: unknown;
}

/** The fields hookscribe sets itself, by path within `params`, and where each one's value comes from. */
const RESERVED_PARAMS = {
  type: 'the job type, always "transcription"',
  fetch_data: "the audio URL given to transcribe()",
  notification_config: "the per-job webhook URL and its Authorization secret",
  "transcription_config.language": 'transcribe()\'s language option, or "auto"',
  "tracking.details": "transcribe()'s metadata option",
};

/**
 * Options of `speechmaticsProvider`. `apiKey` is required; `region` and `baseUrl` exclude each
 * other; an unknown key is an error.
 */
export interface SpeechmaticsProviderOptions extends ProviderRequestOptions {
  /** A Speechmatics API key, sent as `Authorization: Bearer {apiKey}`. Required. */
  apiKey: string;
  /**
   * Regional environment: its host `https://{region}.asr.api.speechmatics.com` (EU1, US1 and AU1
   * are open to every account, the others to enterprise ones). Giving both `region` and `baseUrl`
   * is a `ConfigurationError`.
   * @default none: https://asr.api.speechmatics.com
   * @example "us1"
   */
  region?: SpeechmaticsRegion;
  /**
   * API base URL, without `/v2`: a proxy or the emulator. Giving both `region` and `baseUrl` is a
   * `ConfigurationError`.
   * @default "https://asr.api.speechmatics.com", or the region's host
   * @example "http://127.0.0.1:8788"
   */
  baseUrl?: string;
  /**
   * Job config fields merged into every submit.
   * @default none
   * @example { transcription_config: { operating_point: "enhanced", diarization: "speaker" } }
   */
  params?: SpeechmaticsParams;
}

const transcriptionConfigSchema = z.looseObject({
  operating_point: z.enum(["standard", "enhanced"]).optional(),
  diarization: z.enum(["none", "speaker", "channel", "speaker_change", "channel_and_speaker_change"]).optional(),
  domain: z.string().min(1).optional(),
  output_locale: z.string().min(1).optional(),
  additional_vocab: z.array(z.strictObject({ content: z.string().min(1), sounds_like: z.array(z.string().min(1)).optional() })).optional(),
  enable_entities: z.boolean().optional(),
});

const paramsSchema = z
  .looseObject({
    transcription_config: transcriptionConfigSchema.optional(),
    language_identification_config: z
      .looseObject({
        expected_languages: z.array(z.string().min(1)).optional(),
        low_confidence_action: z.enum(["allow", "reject", "use_default_language"]).optional(),
        default_language: z.string().min(1).optional(),
      })
      .optional(),
    tracking: z.looseObject({ title: z.string().optional(), reference: z.string().optional(), tags: z.array(z.string()).optional() }).optional(),
    translation_config: z.looseObject({ target_languages: z.array(z.string().min(1)).min(1) }).optional(),
  })
  .superRefine(refuseReservedParams(RESERVED_PARAMS));

const optionsSchema = regionalBaseUrl(
  z.strictObject({
    apiKey: z.string().min(1),
    region: z.enum(["eu1", "eu2", "us1", "us2", "au1"]).optional(),
    baseUrl: z.string().url().optional(),
    params: paramsSchema.default({}),
    ...providerRequestShape,
  }),
  (region) => `https://${region}.asr.api.speechmatics.com`,
  GLOBAL_BASE_URL,
);

// Fails to compile when the interfaces above and the schema disagree on a field.
true satisfies Same<z.input<typeof optionsSchema>, SpeechmaticsProviderOptions>;

/**
 * What hookscribe asks each notification to carry: the json-v2 transcript as a JSON body, so a
 * finished job needs no fetch. A failed job's notification has no transcript to carry.
 */
const NOTIFICATION_CONTENTS = ["transcript.json-v2"] as const;

/**
 * Speechmatics' batch API: a `multipart/form-data` submit whose `notification_config` carries the
 * webhook URL (with this job's secret as its `Authorization` header) and asks for the json-v2
 * transcript as the notification's body. The job id and outcome come in the notification's query
 * string; a failure's message, or a transcript the body lacks, is fetched.
 */
export function speechmaticsProvider(options: SpeechmaticsProviderOptions): Provider {
  const config = parseOptions(optionsSchema, options, "speechmaticsProvider");
  const { baseUrl } = config;
  const api = createProviderApi({
    provider: NAME,
    baseUrl,
    headers: { authorization: `Bearer ${config.apiKey}` },
    request: config,
    errorSchema: errorResponseSchema,
    errorText: (answer) => (answer.detail ? `${answer.error}: ${answer.detail}` : answer.error),
    idempotentSubmits: false,
  });

  return {
    name: NAME,
    baseUrl,

    async submit(request, context) {
      const { transcription_config, tracking, ...otherParams } = config.params;
      const jobConfig: JobConfig = {
        ...otherParams,
        type: "transcription",
        fetch_data: { url: request.audioUrl },
        // Speechmatics requires a language: without one it identifies the language itself.
        transcription_config: { ...transcription_config, language: request.language ?? "auto" },
        notification_config: [
          {
            url: request.webhookUrl,
            contents: [...NOTIFICATION_CONTENTS],
            method: "post",
            auth_headers: [`Authorization: Bearer ${request.webhookSecret}`],
          },
        ],
      };
      if (tracking || request.metadata) jobConfig.tracking = { ...tracking, ...(request.metadata && { details: request.metadata }) };
      const form = new FormData();
      form.set("config", JSON.stringify(jobConfig));
      const created = await api.submit("v2/jobs", { body: form, signal: context.signal }, createJobResponseSchema);
      return { jobId: created.id };
    },

    // The outcome is in the query string; the body is JSON when hookscribe's `contents` are honoured,
    // and may come as octet-stream, text, multipart or nothing otherwise: parse() reads what it can.
    acceptsContentType: () => true,

    authenticate({ headers }, context) {
      const secret = bearerToken(headers);
      if (secret === undefined) {
        return { ok: false, reason: "no Authorization: Bearer header (Speechmatics echoes the job's notification_config auth_headers)" };
      }
      return context.isJobSecret(secret) ? { ok: true } : { ok: false, reason: "the Authorization header does not carry this job's secret" };
    },

    parse(request) {
      const query = parsePayload(notificationQuerySchema, Object.fromEntries(request.query), NAME, "notification query string");
      // A failed job's notification carries no message: the worker fetches it from the job's details.
      if (query.status !== "success") return { jobId: query.id, status: "error", raw: query };
      const transcript = transcriptInBody(request);
      if (!transcript) return { jobId: query.id, status: "completed", raw: query };
      if (transcript.job.id !== query.id) {
        throw new ProviderPayloadError(NAME, `The ${NAME} notification body is about another job than its query string's id`);
      }
      return { jobId: query.id, status: "completed", result: toResult(transcript), raw: transcript };
    },

    async fetchResult(jobId, fetchOptions) {
      const { signal, retry } = fetchOptions ?? {};
      const jobPath = `v2/jobs/${encodeURIComponent(jobId)}`;
      const details = withoutNotification(parsePayload(jobDetailsResponseSchema, await api.fetch(jobPath, jobId, { signal, retry }), NAME, `job ${jobId}`));
      const { status } = details.job;
      if (status === "running") return { jobId, status: "processing", raw: details };
      if (status !== "done") return { jobId, status: "error", error: failureMessage(details), raw: details };
      const body = await api.fetch(`${jobPath}/transcript?format=json-v2`, jobId, { signal, retry });
      const transcript = parsePayload(transcriptSchema, body, NAME, `transcript of job ${jobId}`);
      if (transcript.job.id !== jobId) {
        throw new ProviderPayloadError(NAME, `The ${NAME} transcript fetched for job ${jobId} is about job ${transcript.job.id}`);
      }
      return { jobId, status: "completed", result: toResult(transcript), raw: transcript };
    },
  };
}

/**
 * The json-v2 transcript a notification's body carries, or `undefined` when it carries none: an
 * empty body, `jobinfo`, text or multipart (hookscribe reads only the JSON transcript it asked for).
 */
function transcriptInBody(request: WebhookRequest): Transcript | undefined {
  // Text, multipart or binary (not JSON) is not the transcript asked for either: it is fetched instead.
  const body = jsonOrUndefined(request.rawBody);
  return typeof body === "object" && body !== null && "results" in body ? parsePayload(transcriptSchema, body, NAME, "notification body") : undefined;
}

/** The job's details as `raw` keeps them: without the notification settings, which carry its secret and token. */
function withoutNotification(details: JobDetailsResponse): JobDetailsResponse {
  const config = details.job.config as Record<string, unknown> | undefined;
  if (!config || !("notification_config" in config)) return details;
  const { notification_config: _notification, ...rest } = config;
  return { ...details, job: { ...details.job, config: rest } } as JobDetailsResponse;
}

/**
 * Why a job ended without a transcript. `errors` also lists failed notification attempts, which
 * come after the job's own failure; the last other entry is the reason.
 */
function failureMessage({ job }: JobDetailsResponse): string {
  const reasons = (job.errors ?? []).map((entry) => entry.message).filter((message) => !/notification/i.test(message));
  return reasons.at(-1) ?? `the job is ${job.status}`;
}

/**
 * Words (and entities) with their times in seconds, each in its written form: punctuation is
 * glued to the word it attaches to (`attaches_to`, default `previous`), in the words as in the
 * text, so captions keep it and can end cues at sentence ends.
 */
function toResult(transcript: Transcript): TranscriptResult {
  const words: Word[] = [];
  let text = "";
  let glueNext = true;
  /** Punctuation that attaches to the word after it, not yet placed. */
  let prefix = "";
  for (const item of transcript.results) {
    const best = item.alternatives?.[0];
    if (!best) continue;
    const isPunctuation = item.type === "punctuation";
    if (!isPunctuation && item.type !== "word" && item.type !== "entity") continue;
    const attachesTo = isPunctuation ? (item.attaches_to ?? "previous") : "none";
    const glued = glueNext || attachesTo === "previous" || attachesTo === "both";
    text += glued ? best.content : ` ${best.content}`;
    glueNext = attachesTo === "next" || attachesTo === "both";
    const previous = words.at(-1);
    if (!isPunctuation) {
      words.push({ ...toWord(item, best), text: `${prefix}${best.content}` });
      prefix = "";
    } else if (previous && (attachesTo === "previous" || attachesTo === "both")) {
      previous.text += best.content;
    } else if (attachesTo === "next") {
      prefix += best.content;
    }
  }
  return { text, words, language: languageOf(transcript), durationSec: transcript.job.duration };
}

function toWord(item: RecognitionResult, best: NonNullable<RecognitionResult["alternatives"]>[number]): Word {
  const word: Word = { text: best.content, start: item.start_time, end: item.end_time };
  if (best.confidence !== undefined) word.confidence = best.confidence;
  if (best.speaker !== undefined && best.speaker !== UNKNOWN_SPEAKER) word.speaker = best.speaker;
  return word;
}

/** The language asked for; when Speechmatics identified it (`"auto"`), the first word's. */
function languageOf(transcript: Transcript): string | undefined {
  const asked = transcript.metadata?.transcription_config?.language;
  if (asked !== undefined && asked !== "auto") return asked;
  return transcript.results.find((item) => item.type === "word")?.alternatives?.[0]?.language;
}
