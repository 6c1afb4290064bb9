import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { type WebhookNotification, transcriptRequestSchema, type transcriptSchema } from "../providers/assemblyai-wire.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { headerValue } from "../verification/verification.js";
import type { EmulatedJob } from "./dev-job.js";
import { type Dialect, deliveredOn2xxFinalOn4xx } from "./dialect.js";
import { HttpError } from "./http-io.js";
import { meanConfidence } from "./mean-confidence.js";
import type { JobResult } from "./transcript-engine.js";

type TranscriptRequest = z.output<typeof transcriptRequestSchema>;

/** The language AssemblyAI assumes when a submit names none and does not ask to detect one. */
const DEFAULT_LANGUAGE_CODE = "en_us";

/** What AssemblyAI answers a submit that still uses the singular `speech_model`. */
const SPEECH_MODEL_DEPRECATED =
  'speech_model is deprecated. Use "speech_models" instead. See documentation: https://www.assemblyai.com/docs/pre-recorded-audio/select-the-speech-model';

/**
 * AssemblyAI's pre-recorded API: `POST /v2/transcript` and `GET /v2/transcript/{id}` with the bare
 * key in `Authorization`, errors as `{ "error" }`, words in milliseconds. Webhooks go only to a job
 * submitted with a `webhook_url`, only when it ends, thin (`transcript_id`, `status`), with the
 * submit's `webhook_auth_header_name: webhook_auth_header_value`. A 2xx is delivered, any 4xx
 * final, anything else retried 10 s apart up to 10 attempts in all.
 */
export function assemblyAIDialect(): Dialect<TranscriptRequest> {
  return {
    name: "assemblyai",
    newJobId: () => randomUUID(),
    hasApiKey: (req, apiKey) => constantTimeEqual(headerValue(req.headers, "authorization") ?? "", apiKey),
    unauthorized: { message: "Authentication error, API token missing/invalid" },
    errorBody: (_status, message) => ({ contentType: "application/json", body: { error: message } }),
    routes: (api) => [
      {
        method: "POST",
        pattern: /^\/v2\/transcript$/,
        counts: "submits",
        async handle(req, res) {
          const request = await api.readJson(req, transcriptRequestSchema);
          if (request.speech_model !== undefined) throw new HttpError(400, SPEECH_MODEL_DEPRECATED);
          const submission = {
            audioUrl: request.audio_url,
            // No webhook_url: the caller polls, and webhook() sends nothing.
            webhook: request.webhook_url ? { url: request.webhook_url, method: "POST" as const, headers: echoedHeaders(request) } : undefined,
            language: request.language_code ?? undefined,
            request,
          };
          await api.submit(res, submission, undefined, (job) => ({ status: 200, body: transcriptBody(job) }));
        },
      },
      {
        method: "GET",
        pattern: /^\/v2\/transcript\/([^/]+)$/,
        counts: "statusFetches",
        async handle(_req, res, [transcriptId = ""]) {
          api.sendJson(res, 200, transcriptBody(api.job(transcriptId)));
        },
      },
    ],
    webhook(job, status) {
      const target = job.submission.webhook;
      // AssemblyAI announces only a job's end, and only to a job submitted with a webhook_url.
      if (status === "processing" || !target) return undefined;
      const { url, headers } = target;
      const notification: WebhookNotification = { transcript_id: job.jobId, status };
      const body = Buffer.from(JSON.stringify(notification));
      return { url, method: "POST", headers: () => ({ "content-type": "application/json", ...headers }), body };
    },
    verdict: deliveredOn2xxFinalOn4xx,
    retryDelaysMs: Array.from({ length: 9 }, () => 10_000),
  };
}

/** The header the submit asked AssemblyAI to send with each webhook, when it gave both its name and value. */
function echoedHeaders(request: TranscriptRequest): Record<string, string> {
  const { webhook_auth_header_name: name, webhook_auth_header_value: value } = request;
  return name && value ? { [name]: value } : {};
}

/**
 * The transcript as `GET /v2/transcript/{id}` (and the submit) answers it: the submit's settings
 * without the auth header's value (AssemblyAI never returns it), then the result once finished.
 */
function transcriptBody(job: EmulatedJob<TranscriptRequest>): z.input<typeof transcriptSchema> {
  const { webhook_auth_header_value: _secret, ...settings } = job.submission.request;
  const body = {
    ...settings,
    id: job.jobId,
    status: job.status,
    language_code: settings.language_code ?? DEFAULT_LANGUAGE_CODE,
    webhook_url: settings.webhook_url ?? null,
    webhook_auth: Boolean(settings.webhook_auth_header_name),
    webhook_auth_header_name: settings.webhook_auth_header_name ?? null,
    webhook_status_code: null,
    text: null,
    words: null,
    confidence: null,
    audio_duration: null,
  };
  const { outcome } = job;
  if (outcome?.status === "error") return { ...body, error: outcome.error };
  if (outcome?.status === "completed") return { ...body, ...resultFields(outcome.result) };
  return body;
}

function resultFields(result: JobResult) {
  const words = result.words.map((word) => ({
    text: word.text,
    start: Math.round(word.start * 1000),
    end: Math.round(word.end * 1000),
    confidence: word.confidence,
    speaker: word.speaker ?? null,
  }));
  const confidences = result.words.flatMap((word) => (word.confidence === undefined ? [] : [word.confidence]));
  return {
    text: result.text,
    words,
    confidence: meanConfidence(confidences) ?? null,
    audio_duration: result.durationSec ?? null,
    ...(result.language === undefined ? {} : { language_code: result.language }),
  };
}
