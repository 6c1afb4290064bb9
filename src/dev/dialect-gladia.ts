import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Word } from "../domain/transcript.js";
import {
  GLADIA_KEY_HEADER,
  type GladiaCallback,
  type GladiaErrorBody,
  type GladiaJobStatus,
  type GladiaSubmitBody,
  type GladiaTranscriptionResult,
  type GladiaUtterance,
  submitRequestSchema,
} from "../providers/gladia-wire.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { headerValue } from "../verification/verification.js";
import type { DevJobStatus, EmulatedJob } from "./dev-job.js";
import { type Dialect, deliveredOn2xxElseRetry } from "./dialect.js";
import { HttpError, fieldOf } from "./http-io.js";
import { meanConfidence } from "./mean-confidence.js";
import { speakerNumbering } from "./speaker-numbering.js";
import type { JobResult } from "./transcript-engine.js";

/** The `error.code` of a failed job's callback and the `error_code` of its result (Gladia's example value). */
const FAILURE_CODE = 500;

/** Gladia's status of a job in each of the emulator's. */
const GLADIA_STATUS_BY_DEV_STATUS: Record<DevJobStatus, GladiaJobStatus> = { queued: "queued", processing: "processing", completed: "done", error: "error" };

const JOB_PATH = "/v2/pre-recorded";

/**
 * Gladia's pre-recorded API (v2): `x-gladia-key`, `POST /v2/pre-recorded` answered `201 {id,
 * result_url}`, `GET /v2/pre-recorded/{id}`, and one callback per job when `callback` is true: the
 * full result on success, `error {code, message}` on failure, nothing for `processing`, nothing
 * signed. Gladia documents no delivery rules; this sender counts any 2xx as delivered and retries
 * anything else after 10 s, 1 min and 5 min.
 */
export function gladiaDialect(): Dialect<GladiaSubmitBody> {
  return {
    name: "gladia",
    newJobId: () => randomUUID(),
    hasApiKey(req, apiKey) {
      const key = headerValue(req.headers, GLADIA_KEY_HEADER);
      return key !== undefined && constantTimeEqual(key, apiKey);
    },
    unauthorized: { message: "gladia key not found" },
    errorBody: (status, message) => ({ contentType: "application/json", body: errorBody(status, message) }),
    // Gladia's 404 names the path asked for, which holds the job id.
    notFound: (jobId) => new HttpError(404, "Not found", {}, errorBody(404, "Not found", `${JOB_PATH}/${jobId}`)),
    routes: (api) => [
      {
        method: "POST",
        pattern: /^\/v2\/pre-recorded$/,
        counts: "submits",
        async handle(req, res) {
          const request = await api.readJson(req, submitRequestSchema, (error) =>
            badRequest(error === undefined ? ["body must be a JSON object"] : error.issues.map((issue) => `${fieldOf(issue)}: ${issue.message}`)),
          );
          if (request.callback === true && !request.callback_config) throw badRequest(["callback_config: required when callback is true"]);
          // Without `callback: true` nobody is called back (the SDK's polling): `webhook()` sends nothing.
          const submission = {
            audioUrl: request.audio_url,
            webhook:
              request.callback === true && request.callback_config
                ? { url: request.callback_config.url, method: request.callback_config.method ?? ("POST" as const), headers: {} }
                : undefined,
            language: forcedLanguage(request),
            request,
          };
          // Gladia takes no idempotency key: every submit starts a job.
          await api.submit(res, submission, undefined, (job) => ({
            status: 201,
            body: { id: job.jobId, result_url: new URL(`${JOB_PATH}/${job.jobId}`, originOf(req)).href },
          }));
        },
      },
      {
        method: "GET",
        pattern: /^\/v2\/pre-recorded\/([^/]+)$/,
        counts: "statusFetches",
        async handle(_req, res, [jobId = ""]) {
          api.sendJson(res, 200, jobBody(api.job(jobId)));
        },
      },
    ],
    // Gladia's callback always carries the full result, so `thinPayloads` changes nothing here.
    webhook(job, status) {
      const { outcome, submission } = job;
      if (status === "processing" || !submission.webhook || !outcome) return undefined;
      const body = Buffer.from(JSON.stringify(callbackBody(job, outcome)));
      return { url: submission.webhook.url, method: submission.webhook.method, headers: () => ({ "content-type": "application/json" }), body };
    },
    verdict: deliveredOn2xxElseRetry,
    retryDelaysMs: [10_000, 60_000, 300_000],
  };
}

/** Gladia's `400` for a submit, listing what is wrong with it. */
function badRequest(problems: string[]): HttpError {
  return new HttpError(400, "Bad Request", {}, errorBody(400, "Bad Request", JOB_PATH, problems));
}

/** One language in `language_config` forces it; none or several mean detection. */
function forcedLanguage(request: GladiaSubmitBody): string | undefined {
  const languages = request.language_config?.languages;
  return languages?.length === 1 ? languages[0] : undefined;
}

function errorBody(status: number, message: string, path?: string, validationErrors?: string[]): GladiaErrorBody {
  return {
    timestamp: new Date().toISOString(),
    ...(path === undefined ? {} : { path }),
    request_id: `G-${randomBytes(4).toString("hex")}`,
    statusCode: status,
    message,
    ...(validationErrors === undefined ? {} : { validation_errors: validationErrors }),
  };
}

function originOf(req: IncomingMessage): string {
  return `http://${headerValue(req.headers, "host") ?? "127.0.0.1"}`;
}

/** What `GET /v2/pre-recorded/{id}` answers for the job now. */
function jobBody(job: EmulatedJob<GladiaSubmitBody>) {
  const { outcome } = job;
  return {
    id: job.jobId,
    request_id: `G-${job.jobId.slice(0, 8)}`,
    version: 2,
    status: GLADIA_STATUS_BY_DEV_STATUS[job.status],
    created_at: new Date(job.createdAt).toISOString(),
    completed_at: job.finishedAt === undefined ? null : new Date(job.finishedAt).toISOString(),
    custom_metadata: job.submission.request.custom_metadata ?? null,
    error_code: outcome?.status === "error" ? FAILURE_CODE : null,
    kind: "pre-recorded",
    file: null,
    request_params: null,
    result: outcome?.status === "completed" ? transcriptionResult(job, outcome.result) : null,
  };
}

function callbackBody(job: EmulatedJob<GladiaSubmitBody>, outcome: NonNullable<EmulatedJob["outcome"]>): GladiaCallback {
  const { custom_metadata } = job.submission.request;
  const echoed = custom_metadata === undefined ? {} : { custom_metadata };
  if (outcome.status === "error") {
    return { id: job.jobId, event: "transcription.error", error: { code: FAILURE_CODE, message: outcome.error }, ...echoed };
  }
  return { id: job.jobId, event: "transcription.success", payload: transcriptionResult(job, outcome.result), ...echoed };
}

function transcriptionResult(job: EmulatedJob<GladiaSubmitBody>, result: JobResult): GladiaTranscriptionResult {
  const duration = result.durationSec ?? result.words.at(-1)?.end ?? 0;
  return {
    metadata: {
      audio_duration: duration,
      number_of_distinct_channels: 1,
      billing_time: duration,
      transcription_time: ((job.finishedAt ?? Date.now()) - job.createdAt) / 1000,
    },
    transcription: {
      full_transcript: result.text,
      languages: result.language === undefined ? [] : [result.language],
      utterances: utterancesOf(result.words, result.language),
    },
  };
}

/**
 * One utterance per run of words by the same speaker. Speakers are numbered in the order they
 * first speak, as Gladia numbers them; every word after an utterance's first carries the space
 * that separates it, as in Gladia's own examples.
 */
function utterancesOf(words: Word[], language: string | undefined): GladiaUtterance[] {
  const runs: Word[][] = [];
  for (const word of words) {
    const run = runs.at(-1);
    if (run && run[0]!.speaker === word.speaker) run.push(word);
    else runs.push([word]);
  }
  // Words without a label are nobody's: they neither get nor take a number.
  const speakerOf = speakerNumbering();
  return runs.map((run) => {
    const label = run[0]!.speaker;
    return {
      start: run[0]!.start,
      end: run.at(-1)!.end,
      confidence: meanConfidence(run.map((word) => word.confidence ?? 1))!,
      channel: 0,
      ...(label === undefined ? {} : { speaker: speakerOf(label) }),
      ...(language === undefined ? {} : { language }),
      text: run.map((word) => word.text).join(" "),
      words: run.map((word, index) => ({ word: index === 0 ? word.text : ` ${word.text}`, start: word.start, end: word.end, confidence: word.confidence ?? 1 })),
    };
  });
}
