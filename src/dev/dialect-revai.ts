import { randomInt } from "node:crypto";
import type { IncomingMessage } from "node:http";
import {
  PROBLEM_JSON,
  type RevAIJob,
  type RevAIJobStatus,
  type RevAIProblem,
  type RevAITranscriptBody,
  type SubmitRequestBody,
  TRANSCRIPT_JSON,
  submitRequestSchema,
} from "../providers/revai-wire.js";
import { bearerToken } from "../verification/bearer-token.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { headerValue } from "../verification/verification.js";
import type { DevJobStatus, EmulatedJob } from "./dev-job.js";
import type { Dialect, DialectApi } from "./dialect.js";
import { HttpError, fieldOf } from "./http-io.js";
import { speakerNumbering } from "./speaker-numbering.js";
import type { JobResult } from "./transcript-engine.js";

const PROBLEM_TYPES = {
  invalidParameters: "https://www.rev.ai/api/v1/errors/invalid-parameters",
  jobNotFound: "https://www.rev.ai/api/v1/errors/job-not-found",
  invalidJobState: "https://rev.ai/api/v1/errors/invalid-job-state",
  unsupportedOutputFormat: "https://rev.ai/api/v1/errors/unsupported-output-format",
};

/** Rev.ai's status of a job in each of the emulator's. */
const REVAI_STATUS_BY_DEV_STATUS: Record<DevJobStatus, RevAIJobStatus> = {
  queued: "in_progress",
  processing: "in_progress",
  completed: "transcribed",
  error: "failed",
};

/** Submit options Rev.ai reports back in the job's details. */
const ECHOED_OPTIONS = [
  "skip_diarization",
  "skip_punctuation",
  "remove_disfluencies",
  "filter_profanity",
  "speaker_channels_count",
  "diarization_type",
  "custom_vocabulary_id",
  "delete_after_seconds",
  "transcriber",
  "verbatim",
  "rush",
  "segments_to_transcribe",
] as const;

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

const THIRTY_MINUTES_MS = 30 * 60_000;

/**
 * Rev.ai's Asynchronous Speech-to-Text API v1: `Authorization: Bearer <access token>`, the JSON
 * submit (`source_config.url`, `notification_config` with an `Authorization` auth header to echo;
 * multipart uploads are not emulated), job details, the transcript as JSON or text by `Accept`,
 * and RFC 7807 problem bodies. One thin webhook per job, when it is transcribed or failed (no
 * `processing` one, so `thin` changes nothing). Only exactly `200` counts as delivered, `410`
 * unsubscribes, anything else is retried every 30 minutes for 24 hours.
 */
export function revAIDialect(): Dialect<SubmitRequestBody> {
  return {
    name: "revai",
    newJobId: () => Array.from({ length: 12 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join(""),
    hasApiKey(req, apiKey) {
      const token = bearerToken(req.headers);
      return token !== undefined && constantTimeEqual(token, apiKey);
    },
    unauthorized: { message: "Authorization has been denied for this request" },
    errorBody: (status, message) => ({ contentType: PROBLEM_JSON, body: { title: message, status } satisfies RevAIProblem }),
    notFound: () => problem({ type: PROBLEM_TYPES.jobNotFound, title: "could not find job", status: 404 }),
    routes: (api) => [
      {
        method: "POST",
        pattern: /^\/speechtotext\/v1\/jobs$/,
        counts: "submits",
        async handle(req, res) {
          const request = await readSubmit(api, req);
          const audioUrl = request.source_config?.url ?? request.media_url;
          if (audioUrl === undefined) throw invalidParameters({ source_config: ["The source_config field is required"] });
          const notification = request.notification_config ?? (request.callback_url === undefined ? undefined : { url: request.callback_url });
          const submission = {
            audioUrl,
            // No notification_config: the job is only polled, and gets no webhook.
            webhook: notification && { url: notification.url, method: "POST" as const, headers: notification.auth_headers ?? {} },
            language: request.language,
            request,
          };
          // Rev.ai takes no idempotency key: a repeated submit is a second job.
          await api.submit(res, submission, undefined, (job) => ({ status: 200, body: jobBody(job, "in_progress") }));
        },
      },
      {
        method: "GET",
        pattern: /^\/speechtotext\/v1\/jobs\/([^/]+)$/,
        counts: "statusFetches",
        async handle(_req, res, [jobId = ""]) {
          const job = api.job(jobId);
          api.sendJson(res, 200, jobBody(job, REVAI_STATUS_BY_DEV_STATUS[job.status]));
        },
      },
      {
        method: "GET",
        pattern: /^\/speechtotext\/v1\/jobs\/([^/]+)\/transcript$/,
        counts: "statusFetches",
        async handle(req, res, [jobId = ""]) {
          const job = api.job(jobId);
          const format = transcriptFormat(headerValue(req.headers, "accept"));
          const { outcome } = job;
          if (outcome?.status !== "completed") {
            throw problem({
              allowed_values: ["transcribed"],
              current_value: REVAI_STATUS_BY_DEV_STATUS[job.status],
              type: PROBLEM_TYPES.invalidJobState,
              title: "Job is in invalid state",
              detail: "Job is in progress or failed",
              status: 409,
            });
          }
          const transcript = transcriptBody(outcome.result);
          if (format === "text") api.send(res, 200, "text/plain; charset=utf-8", transcriptText(transcript));
          else api.send(res, 200, TRANSCRIPT_JSON, JSON.stringify(transcript));
        },
      },
    ],
    webhook(job, status) {
      const target = job.submission.webhook;
      // Rev.ai announces only the end of a job, and only to a job that asked for it.
      if (status === "processing" || !target) return undefined;
      const body = Buffer.from(JSON.stringify({ job: jobBody(job, REVAI_STATUS_BY_DEV_STATUS[status]) }));
      return { url: target.url, method: "POST", headers: () => ({ "content-type": "application/json", ...target.headers }), body };
    },
    verdict: (statusCode) => (statusCode === 200 ? "delivered" : statusCode === 410 ? "final" : "retry"),
    retryDelaysMs: Array.from({ length: 48 }, () => THIRTY_MINUTES_MS),
  };
}

/** An error answer with a problem body of its own (parameters, job state), beyond `errorBody`'s title and status. */
function problem(body: RevAIProblem): HttpError {
  return new HttpError(body.status, body.title, {}, body);
}

function invalidParameters(parameters: Record<string, string[]>): HttpError {
  return problem({
    parameters,
    type: PROBLEM_TYPES.invalidParameters,
    title: "Your request parameters didn't validate",
    status: 400,
  });
}

/** The submit's JSON body; what does not fit is a `400` naming each field, as Rev.ai answers it. */
async function readSubmit(api: DialectApi<SubmitRequestBody>, req: IncomingMessage): Promise<SubmitRequestBody> {
  const contentType = headerValue(req.headers, "content-type") ?? "";
  if (!contentType.startsWith("application/json")) {
    throw new HttpError(415, "The emulator takes JSON submits (source_config.url) only; multipart uploads are not emulated");
  }
  return api.readJson(req, submitRequestSchema, (error) => {
    if (error === undefined) return invalidParameters({ body: ["The request body is not valid JSON"] });
    const parameters: Record<string, string[]> = {};
    for (const issue of error.issues) (parameters[fieldOf(issue)] ??= []).push(issue.message);
    return invalidParameters(parameters);
  });
}

/** `Accept` picks the transcript's format; without one Rev.ai answers JSON. */
function transcriptFormat(accept: string | undefined): "json" | "text" {
  if (accept === undefined || accept.includes(TRANSCRIPT_JSON) || accept.includes("*/*")) return "json";
  if (accept.includes("text/plain")) return "text";
  throw problem({
    type: PROBLEM_TYPES.unsupportedOutputFormat,
    title: "Unsupported transcript format",
    detail: `Accept ${TRANSCRIPT_JSON} or text/plain`,
    status: 406,
  });
}

/** The job as Rev.ai reports it in `status`: completion fields only once it is no longer in progress. */
function jobBody(job: EmulatedJob<SubmitRequestBody>, status: RevAIJobStatus): RevAIJob {
  const { request } = job.submission;
  const body: RevAIJob = {
    id: job.jobId,
    status,
    type: "async",
    created_on: new Date(job.createdAt).toISOString(),
    language: request.language ?? "en",
    ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
    ...(request.callback_url === undefined ? {} : { callback_url: request.callback_url }),
    ...Object.fromEntries(ECHOED_OPTIONS.filter((option) => request[option] !== undefined).map((option) => [option, request[option]])),
  };
  if (status === "in_progress" || !job.outcome) return body;
  body.completed_on = new Date(job.finishedAt ?? Date.now()).toISOString();
  if (job.outcome.status === "error") return { ...body, failure: "internal_processing", failure_detail: job.outcome.error };
  const { durationSec } = job.outcome.result;
  return durationSec === undefined ? body : { ...body, duration_seconds: durationSec };
}

/**
 * The result as monologues: one per run of words by one speaker (speaker labels numbered in order
 * of appearance), words as `text` elements timed to the centisecond, trailing punctuation and the
 * spaces between words as `punct` elements.
 */
function transcriptBody(result: JobResult): RevAITranscriptBody {
  const speakerOf = speakerNumbering();
  const monologues: RevAITranscriptBody["monologues"] = [];
  let current: RevAITranscriptBody["monologues"][number] | undefined;
  for (const word of result.words) {
    const speaker = speakerOf(word.speaker);
    if (current?.speaker === speaker) current.elements.push({ type: "punct", value: " " });
    else monologues.push((current = { speaker, elements: [] }));
    const [, spoken = "", punctuation = ""] = /^(.*?)([.,!?;:]*)$/s.exec(word.text) ?? [];
    if (spoken !== "") {
      current.elements.push({
        type: "text",
        value: spoken,
        ts: centiseconds(word.start),
        end_ts: centiseconds(word.end),
        ...(word.confidence === undefined ? {} : { confidence: word.confidence }),
      });
    }
    if (punctuation !== "") current.elements.push({ type: "punct", value: punctuation });
  }
  return { monologues };
}

/** Rev.ai's `text/plain` transcript: `Speaker N    hh:mm:ss    text`, one paragraph per monologue. */
function transcriptText(transcript: RevAITranscriptBody): string {
  return transcript.monologues
    .map(({ speaker, elements }) => {
      const start = elements.find((element) => element.ts !== undefined)?.ts ?? 0;
      return `Speaker ${speaker}    ${clock(start)}    ${elements.map((element) => element.value).join("")}`;
    })
    .join("\n\n");
}

function clock(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().slice(11, 19);
}

function centiseconds(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}
