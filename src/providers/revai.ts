import { z } from "zod";
import type { ProviderEvent } from "../domain/provider-event.js";
import type { ProviderJobStatus } from "../domain/job-status.js";
import type { TranscriptResult, Word } from "../domain/transcript.js";
import { ConfigurationError } from "../errors/index.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";
import { bearerToken } from "../verification/bearer-token.js";
import { isJsonOrUntyped, parseJsonWebhook, parsePayload } from "./parse-payload.js";
import { type ProviderRequestOptions, createProviderApi, providerRequestShape } from "./provider-api.js";
import type { Provider } from "./provider.js";
import { regionalBaseUrl } from "./regional-base-url.js";
import { refuseReservedParams } from "./reserved-params.js";
import {
  METADATA_MAX_CHARS,
  type RevAIJob,
  type RevAIJobStatus,
  type RevAIProblem,
  type RevAITranscript,
  TRANSCRIPT_JSON,
  jobSchema,
  problemSchema,
  transcriptSchema,
  webhookBodySchema,
} from "./revai-wire.js";

const NAME = "revai";

/** Rev.ai's deployments; an access token works only against the deployment that issued it. */
export type RevAIRegion = "us" | "eu";

const REGION_BASE_URLS: Record<RevAIRegion, string> = {
  us: "https://api.rev.ai",
  eu: "https://ec1.api.rev.ai",
};

/**
 * Rev.ai job options merged into every submit (`POST /speechtotext/v1/jobs`). The common ones are
 * typed; any other documented field passes through as given. `source_config`,
 * `notification_config`, `media_url`, `callback_url`, `language` and `metadata` are hookscribe's
 * (the audio URL, the webhook and its auth, `transcribe()`'s `language` and `metadata`): setting
 * one here is a `ConfigurationError`.
 */
export interface RevAIParams {
  /**
   * Skip speaker diarization: every word gets speaker `"0"`.
   * @default false
   * @example true
   */
  skip_diarization?: boolean;
  /**
   * Leave out punctuation (and the spaces between words, which hookscribe then puts back).
   * @default false
   * @example true
   */
  skip_punctuation?: boolean;
  /**
   * Drop disfluencies ("um", "uh") from the transcript.
   * @default false
   * @example true
   */
  remove_disfluencies?: boolean;
  /**
   * Mask about 600 profanities with asterisks.
   * @default false
   * @example true
   */
  filter_profanity?: boolean;
  /**
   * Number of speaker channels in the audio (1–8); each is transcribed on its own.
   * @default Rev.ai's own: one mixed channel
   * @example 2
   */
  speaker_channels_count?: number;
  /**
   * Diarization model.
   * @default "standard"
   * @example "premium"
   */
  diarization_type?: "standard" | "premium";
  /**
   * Transcriber: `"machine"`, `"low_cost"`, `"fusion"` or `"human"`.
   * @default "machine"
   * @example "fusion"
   */
  transcriber?: string;
  /**
   * Id of a custom vocabulary made beforehand with Rev.ai's custom vocabulary API.
   * @default none
   * @example "cvyIJtoF4B1eVs6m"
   */
  custom_vocabulary_id?: string;
  /**
   * Phrases to favour, for this job only.
   * @default none
   * @example [{ phrases: ["hookscribe", "Rev.ai"] }]
   */
  custom_vocabularies?: { phrases: string[] }[];
  /**
   * Seconds after completion when Rev.ai deletes the job and its media.
   * @default the account's retention setting
   * @example 86_400
   */
  delete_after_seconds?: number;
  /** Any other job option Rev.ai documents, e.g. `{ verbatim: true }` with the human transcriber. */
  [field: string]: unknown;
}

/** The fields hookscribe sets itself, and where each one's value comes from. */
const RESERVED_PARAMS = {
  source_config: "the audio URL given to transcribe()",
  media_url: "the audio URL given to transcribe()",
  notification_config: "the per-job webhook URL and its Authorization secret",
  callback_url: "the per-job webhook URL",
  language: "transcribe()'s language option",
  metadata: "transcribe()'s metadata option",
};

/**
 * Options of `revAIProvider`. `apiKey` is required; `region` and `baseUrl` exclude each other; an
 * unknown key is an error.
 */
export interface RevAIProviderOptions extends ProviderRequestOptions {
  /** A Rev.ai access token, sent as `Authorization: Bearer {apiKey}`. Required. */
  apiKey: string;
  /**
   * Rev.ai deployment: `"us"` (`https://api.rev.ai`) or `"eu"` (`https://ec1.api.rev.ai`). Giving
   * both `region` and `baseUrl` is a `ConfigurationError`.
   * @default "us"
   */
  region?: RevAIRegion;
  /**
   * API base URL, without `/speechtotext/v1`: a proxy or the emulator. Giving both `region` and
   * `baseUrl` is a `ConfigurationError`.
   * @default the region's: https://api.rev.ai
   * @example "http://127.0.0.1:8788"
   */
  baseUrl?: string;
  /**
   * Job options merged into every submit.
   * @default none
   * @example { skip_diarization: true, remove_disfluencies: true }
   */
  params?: RevAIParams;
}

const paramsSchema = z
  .looseObject({
    skip_diarization: z.boolean().optional(),
    skip_punctuation: z.boolean().optional(),
    remove_disfluencies: z.boolean().optional(),
    filter_profanity: z.boolean().optional(),
    speaker_channels_count: z.number().int().min(1).max(8).optional(),
    diarization_type: z.enum(["standard", "premium"]).optional(),
    transcriber: z.string().min(1).optional(),
    custom_vocabulary_id: z.string().min(1).optional(),
    custom_vocabularies: z.array(z.object({ phrases: z.array(z.string().min(1)).min(1) })).optional(),
    delete_after_seconds: z.number().int().nonnegative().optional(),
  })
  .superRefine(refuseReservedParams(RESERVED_PARAMS));

const optionsSchema = regionalBaseUrl(
  z.strictObject({
    apiKey: z.string().min(1),
    region: z.enum(["us", "eu"]).optional(),
    baseUrl: z.string().url().optional(),
    params: paramsSchema.default({}),
    ...providerRequestShape,
  }),
  (region) => REGION_BASE_URLS[region],
  REGION_BASE_URLS.us,
);

// Fails to compile when the interfaces above and the schema disagree on a field.
true satisfies Same<z.input<typeof optionsSchema>, RevAIProviderOptions>;

/** hookscribe's status of a job in each of Rev.ai's. */
const JOB_STATUS_BY_REVAI_STATUS: Record<RevAIJobStatus, ProviderJobStatus> = {
  in_progress: "processing",
  transcribed: "completed",
  failed: "error",
};

/**
 * Rev.ai's Asynchronous Speech-to-Text API: submit with `notification_config` (the webhook URL,
 * with this job's secret as its `Authorization` header), a thin webhook, then the result fetched:
 * the job's details and, for a transcribed job, its JSON transcript (two requests).
 */
export function revAIProvider(options: RevAIProviderOptions): Provider {
  const config = parseOptions(optionsSchema, options, "revAIProvider");
  const { baseUrl } = config;
  const api = createProviderApi({
    provider: NAME,
    baseUrl,
    headers: { authorization: `Bearer ${config.apiKey}` },
    request: config,
    errorSchema: problemSchema,
    errorText: describeProblem,
    idempotentSubmits: false,
  });

  return {
    name: NAME,
    baseUrl,

    async submit(request, context) {
      const metadata = encodeMetadata(request.metadata);
      const job = await api.submit(
        "speechtotext/v1/jobs",
        {
          json: {
            ...config.params,
            source_config: { url: request.audioUrl },
            notification_config: { url: request.webhookUrl, auth_headers: { Authorization: `Bearer ${request.webhookSecret}` } },
            language: request.language,
            metadata,
          },
          signal: context.signal,
        },
        jobSchema,
      );
      return { jobId: job.id };
    },

    acceptsContentType: isJsonOrUntyped,

    authenticate({ headers }, context) {
      const secret = bearerToken(headers);
      if (secret === undefined) return { ok: false, reason: "no Authorization: Bearer header (Rev.ai echoes the job's notification_config.auth_headers)" };
      return context.isJobSecret(secret) ? { ok: true } : { ok: false, reason: "the Authorization header does not carry this job's secret" };
    },

    parse(request) {
      const body = parseJsonWebhook(request, webhookBodySchema, NAME);
      return toEvent(body.job, body);
    },

    async fetchResult(jobId, fetchOptions) {
      const { signal, retry } = fetchOptions ?? {};
      const jobPath = `speechtotext/v1/jobs/${encodeURIComponent(jobId)}`;
      const jobBody = await api.fetch(jobPath, jobId, { signal, retry });
      const job = parsePayload(jobSchema, jobBody, NAME, `job ${jobId}`);
      if (job.status !== "transcribed") return toEvent(job, { job: jobBody });
      const transcriptBody = await api.fetch(`${jobPath}/transcript`, jobId, { signal, retry, headers: { accept: TRANSCRIPT_JSON } });
      const transcript = parsePayload(transcriptSchema, transcriptBody, NAME, `transcript of job ${jobId}`);
      return { ...toEvent(job, { job: jobBody, transcript: transcriptBody }), result: toResult(job, transcript) };
    },
  };
}

/** `transcribe()`'s metadata as the one string Rev.ai keeps with the job and echoes back. */
function encodeMetadata(metadata: Record<string, unknown> | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  const encoded = JSON.stringify(metadata);
  if (encoded.length > METADATA_MAX_CHARS) {
    throw new ConfigurationError(
      `revAIProvider: metadata is ${encoded.length} characters as JSON; Rev.ai keeps at most ${METADATA_MAX_CHARS}. Keep an id there and the rest in your own records`,
    );
  }
  return encoded;
}

function toEvent(job: RevAIJob, raw: unknown): ProviderEvent {
  const event: ProviderEvent = { jobId: job.id, status: JOB_STATUS_BY_REVAI_STATUS[job.status], raw };
  const failure = job.failure_detail ?? job.failure;
  if (job.status === "failed" && failure !== undefined) event.error = failure;
  return event;
}

/**
 * Words are the `text` elements, in their written form: a `punct` element's punctuation is glued
 * to the word before it (captions keep it and end cues at sentence ends). The text is every
 * element's value in order, since the `punct` elements carry the spaces and punctuation; without
 * punctuation (`skip_punctuation`) Rev.ai drops the spaces too, so adjacent words get one back.
 */
function toResult(job: RevAIJob, transcript: RevAITranscript): TranscriptResult {
  const words: Word[] = [];
  const lines: string[] = [];
  for (const { speaker, elements } of transcript.monologues) {
    let line = "";
    let afterWord = false;
    let lastWord: Word | undefined;
    for (const { value, timing } of elements) {
      if (timing) {
        if (afterWord) line += " ";
        lastWord = { text: value, ...timing, speaker: String(speaker) };
        words.push(lastWord);
      } else if (lastWord && value.trim() !== "") {
        lastWord.text += value.trim();
      }
      line += value;
      afterWord = timing !== undefined;
    }
    if (line.trim() !== "") lines.push(line.trim());
  }
  return { text: lines.join(" "), words, language: job.language, durationSec: job.duration_seconds };
}

/** `title (detail); field: message` from a problem body. */
function describeProblem(problem: RevAIProblem): string {
  const parameters = Object.entries(problem.parameters ?? {}).map(([field, messages]) => `${field}: ${messages.join(", ")}`);
  return [`${problem.title}${problem.detail ? ` (${problem.detail})` : ""}`, ...parameters].join("; ");
}
