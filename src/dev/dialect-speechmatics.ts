import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import {
  ERROR_NAMES,
  type ErrorName,
  type JobConfig,
  type JobStatus,
  type NotificationContent,
  UNKNOWN_SPEAKER,
  type jobDetailsResponseSchema,
  jobConfigSchema,
  type transcriptSchema,
} from "../providers/speechmatics-wire.js";
import { describeIssues } from "../validation/describe-issues.js";
import { bearerToken } from "../verification/bearer-token.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { headerValue } from "../verification/verification.js";
import type { DevJobStatus, EmulatedJob, JobSubmission } from "./dev-job.js";
import { type Dialect, type DialectApi, deliveredOn2xxElseRetry } from "./dialect.js";
import { HttpError, parseJsonBody } from "./http-io.js";
import type { JobResult } from "./transcript-engine.js";

type JobDetails = z.input<typeof jobDetailsResponseSchema>["job"];
type TranscriptBody = z.input<typeof transcriptSchema>;
type RecognitionResult = TranscriptBody["results"][number];

/** The language the emulator "identifies" for a job submitted with `"auto"` whose engine names none. */
const IDENTIFIED_LANGUAGE = "en";

/** The `contents` the emulator can attach to a notification, with each one's media type. */
const ATTACHABLE = {
  jobinfo: "application/json",
  transcript: "application/json",
  "transcript.json-v2": "application/json",
  "transcript.txt": "text/plain",
} as const;
type Attachable = keyof typeof ATTACHABLE;

function isAttachable(content: NotificationContent): content is Attachable {
  return content in ATTACHABLE;
}

/** Speechmatics' status of a job in each of the emulator's. */
const SPEECHMATICS_STATUS_BY_DEV_STATUS: Record<DevJobStatus, JobStatus> = {
  queued: "running",
  processing: "running",
  completed: "done",
  error: "rejected",
};

/** The `error` name an answer of this HTTP status gets when its message names none. */
const ERROR_FOR_STATUS: Record<number, ErrorName> = {
  401: "Permission Denied",
  403: "Forbidden",
  404: "Job not found",
  410: "Job Expired",
  422: "Unprocessable Entity",
  423: "Resource Locked",
  501: "Not Implemented",
};

/**
 * Speechmatics' batch API (v2): `POST /v2/jobs` as `multipart/form-data` with a JSON `config`
 * part, `GET /v2/jobs/{id}` and `GET /v2/jobs/{id}/transcript`, a Bearer key, errors as
 * `{code, error, detail?}` with `error` one of the names its SDK accepts. A job is `running`, then
 * `done` or `rejected` (with `errors`). Only the first `notification_config` entry is notified, once
 * the job ends, at its URL plus `?id=…&status=success|error`, with its `auth_headers` and a body
 * made of its `contents` (only `jobinfo` when the job failed). 2xx is delivered; anything else is
 * retried 15, 20 and 30 s later, the attempts Speechmatics records for a notification that keeps
 * failing, then given up. Unverified and chosen here: the transcript of an unfinished job is `404`
 * "Transcription not ready"; multipart parts are named after their content, `data_file` when
 * `contents` is omitted.
 */
export function speechmaticsDialect(): Dialect<JobConfig> {
  return {
    name: "speechmatics",
    newJobId: () => Array.from(randomBytes(10), (byte) => (byte % 36).toString(36)).join(""),
    hasApiKey(req, apiKey) {
      const token = bearerToken(req.headers);
      return token !== undefined && constantTimeEqual(token, apiKey);
    },
    unauthorized: { message: "Permission Denied" },
    errorBody(status, message) {
      // A message may start with the error's name ("Job rejected: Job config JSON is invalid").
      const named = ERROR_NAMES.find((name) => message === name || message.startsWith(`${name}: `));
      const error = named ?? ERROR_FOR_STATUS[status] ?? (status >= 500 ? "Internal Server Error" : "Bad Request");
      const detail = named ? message.slice(named.length + 2) : message;
      return { contentType: "application/json", body: detail === "" ? { code: status, error } : { code: status, error, detail } };
    },
    routes: (api) => [
      {
        method: "POST",
        pattern: /^\/v2\/jobs$/,
        counts: "submits",
        async handle(req, res) {
          const { config, audioUrl } = await readJobConfig(api, req);
          await api.submit(res, submissionOf(config, audioUrl), undefined, (job) => ({ status: 201, body: { id: job.jobId } }));
        },
      },
      {
        method: "GET",
        pattern: /^\/v2\/jobs\/([^/]+)$/,
        counts: "statusFetches",
        async handle(_req, res, [jobId = ""]) {
          api.sendJson(res, 200, { job: jobDetails(api.job(jobId)) });
        },
      },
      {
        method: "GET",
        pattern: /^\/v2\/jobs\/([^/]+)\/transcript$/,
        counts: "statusFetches",
        async handle(req, res, [jobId = ""]) {
          const job = api.job(jobId);
          if (job.outcome?.status !== "completed") throw new HttpError(404, `Transcription not ready: the job is ${SPEECHMATICS_STATUS_BY_DEV_STATUS[job.status]}`);
          const format = new URL(req.url ?? "", "http://dev-provider.invalid").searchParams.get("format") ?? "json-v2";
          if (format === "json-v2") return api.sendJson(res, 200, transcriptBody(job, job.outcome.result));
          if (format === "txt") return api.send(res, 200, "text/plain; charset=utf-8", job.outcome.result.text);
          throw new HttpError(501, `Not Implemented: the emulator serves transcripts as json-v2 or txt, not ${format}`);
        },
      },
    ],
    webhook(job, status, thin) {
      const notification = job.submission.webhook;
      // Speechmatics notifies only a job's end, and only a job submitted with a notification_config.
      if (status === "processing" || !notification) return undefined;
      const { url, method, headers } = notification;
      const target = new URL(url);
      target.searchParams.append("id", job.jobId);
      target.searchParams.append("status", status === "completed" ? "success" : "error");
      const contents = thin ? [] : job.submission.request.notification_config?.[0]?.contents?.filter(isAttachable);
      const { contentType, body } = notificationBody(job, contents);
      return { url: target.href, method, headers: () => ({ ...headers, ...(contentType && { "content-type": contentType }) }), body };
    },
    verdict: deliveredOn2xxElseRetry,
    retryDelaysMs: [15_000, 20_000, 30_000],
  };
}

/** The `config` part of a submit, checked as Speechmatics checks it, and the audio URL it names. */
async function readJobConfig(api: DialectApi<JobConfig>, req: IncomingMessage): Promise<{ config: JobConfig; audioUrl: string }> {
  const contentType = headerValue(req.headers, "content-type") ?? "";
  if (!/^multipart\/form-data/i.test(contentType)) throw new HttpError(400, "Malformed request: send the job as multipart/form-data");
  const raw = await api.readBody(req);
  const form = await new Response(raw, { headers: { "content-type": contentType } }).formData().catch(() => {
    throw new HttpError(400, "Malformed request: the multipart/form-data body cannot be read");
  });
  const text = form.get("config");
  if (typeof text !== "string") throw new HttpError(400, "Job rejected: Job config JSON is invalid. Error: the config part is missing");
  const config = parseJsonBody(Buffer.from(text), jobConfigSchema, (error) =>
    new HttpError(400, `Job rejected: Job config JSON is invalid${error === undefined ? "" : `. Error: ${describeIssues(error)}`}`),
  );
  if (!config.fetch_data) {
    if (form.has("data_file")) throw new HttpError(501, "Not Implemented: the emulator transcribes audio fetched from fetch_data.url only");
    throw new HttpError(400, "Missing data_file");
  }
  const unattachable = (config.notification_config ?? []).flatMap((entry) => entry.contents ?? []).filter((content) => !isAttachable(content));
  if (unattachable.length > 0) throw new HttpError(501, `Not Implemented: the emulator cannot attach ${unattachable.join(", ")} to notifications`);
  return { config, audioUrl: config.fetch_data.url };
}

function submissionOf(config: JobConfig, audioUrl: string): JobSubmission<JobConfig> {
  const notification = config.notification_config?.[0];
  const { language } = config.transcription_config;
  return {
    audioUrl,
    webhook: notification && {
      url: notification.url,
      method: notification.method === "put" ? "PUT" : "POST",
      headers: echoedHeaders(notification.auth_headers ?? []),
    },
    language: language === "auto" ? undefined : language,
    request: config,
  };
}

/** `"Name: value"` lines as the headers they stand for. */
function echoedHeaders(lines: string[]): Record<string, string> {
  return Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
}

/** `GET /v2/jobs/{id}`'s `job`: its config as submitted, and failures, its own first, then its notifications'. */
function jobDetails(job: EmulatedJob<JobConfig>): JobDetails {
  const { outcome } = job;
  const finishedAt = isoTime(job.finishedAt ?? Date.now());
  const errors = [
    ...(outcome?.status === "error" ? [{ timestamp: finishedAt, message: outcome.error }] : []),
    ...notificationErrors(job).map((message) => ({ timestamp: finishedAt, message })),
  ];
  return {
    id: job.jobId,
    created_at: isoTime(job.createdAt),
    data_name: "",
    status: SPEECHMATICS_STATUS_BY_DEV_STATUS[job.status],
    ...(outcome?.status === "completed" && { duration: wholeSeconds(outcome.result) }),
    config: job.submission.request,
    ...(errors.length > 0 && { errors }),
  };
}

/** How Speechmatics records a notification that did not get through (its wording, with the emulator's reason). */
function notificationErrors(job: EmulatedJob<JobConfig>): string[] {
  const delivery = job.status === "completed" || job.status === "error" ? job.deliveries[job.status] : undefined;
  if (delivery?.lastError === undefined) return [];
  const attempt = `Error in sending notification: unable to send notification: ${delivery.lastError}`;
  return delivery.state === "dead_letter" ? [attempt, "Sending notification failed"] : [`${attempt}, retrying`];
}

/**
 * A notification's body: nothing for no `contents`; one item as the body itself; several (or
 * `contents` omitted, the transcript as `data_file`) as `multipart/form-data`. An item a failed
 * job does not have is left out, the format kept.
 */
function notificationBody(job: EmulatedJob<JobConfig>, contents: Attachable[] | undefined): { contentType?: string; body: Buffer } {
  if (contents === undefined) return multipart([attachment(job, "transcript", "data_file")]);
  if (contents.length === 0) return { body: Buffer.alloc(0) };
  if (contents.length === 1) {
    const only = attachment(job, contents[0]!, contents[0]!);
    return { contentType: only.contentType, body: Buffer.from(only.data ?? "") };
  }
  return multipart(contents.map((content) => attachment(job, content, content)));
}

interface Attachment {
  name: string;
  contentType: string;
  /** `undefined` when the job has no such item (a failed job has only its jobinfo). */
  data: string | undefined;
}

function attachment(job: EmulatedJob<JobConfig>, content: Attachable, name: string): Attachment {
  const contentType = ATTACHABLE[content];
  const { outcome } = job;
  if (content === "jobinfo") return { name, contentType, data: JSON.stringify(jobInfo(job)) };
  if (outcome?.status !== "completed") return { name, contentType, data: undefined };
  const data = content === "transcript.txt" ? outcome.result.text : JSON.stringify(transcriptBody(job, outcome.result));
  return { name, contentType, data };
}

function multipart(attachments: Attachment[]): { contentType: string; body: Buffer } {
  const boundary = `speechmatics-${randomBytes(12).toString("hex")}`;
  const parts = attachments
    .filter((part) => part.data !== undefined)
    .map((part) => {
      const disposition = `Content-Disposition: form-data; name="${part.name}"; filename="${part.name}"`;
      return `--${boundary}\r\n${disposition}\r\nContent-Type: ${part.contentType}\r\n\r\n${part.data}\r\n`;
    });
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.from(`${parts.join("")}--${boundary}--\r\n`) };
}

/** The `job` part of a transcript, and what a `jobinfo` notification carries. */
function jobInfo(job: EmulatedJob<JobConfig>): TranscriptBody["job"] {
  const { outcome } = job;
  const { tracking } = job.submission.request;
  return {
    id: job.jobId,
    created_at: isoTime(job.createdAt),
    data_name: "",
    duration: outcome?.status === "completed" ? wholeSeconds(outcome.result) : 0,
    ...(tracking && { tracking }),
  };
}

/** The json-v2 transcript. */
function transcriptBody(job: EmulatedJob<JobConfig>, result: JobResult): TranscriptBody {
  return {
    format: "2.9",
    job: jobInfo(job),
    metadata: {
      created_at: isoTime(job.finishedAt ?? Date.now()),
      type: "transcription",
      transcription_config: job.submission.request.transcription_config,
    },
    results: recognitionResults(result),
  };
}

/**
 * The engine's words as Speechmatics lists them: punctuation at a word's edges becomes its own
 * item, attached to the word it touches (a sentence end marked `is_eos`); a token that is all
 * punctuation stands alone.
 */
function recognitionResults(result: JobResult): RecognitionResult[] {
  const language = result.language ?? IDENTIFIED_LANGUAGE;
  return result.words.flatMap((word) => {
    const speaker = word.speaker ?? UNKNOWN_SPEAKER;
    const alternatives = (content: string, confidence: number) => [{ content, confidence, language, speaker }];
    const mark = (content: string, at: number, attachesTo: string) => ({
      type: "punctuation",
      start_time: at,
      end_time: at,
      attaches_to: attachesTo,
      alternatives: alternatives(content, 1),
    });
    const [, leading = "", core = "", trailing = ""] = /^(\p{P}*)(.*?)(\p{P}*)$/su.exec(word.text) ?? [];
    if (core === "") return [{ ...mark(word.text, word.start, "none"), end_time: word.end }];
    return [
      ...(leading ? [mark(leading, word.start, "next")] : []),
      { type: "word", start_time: word.start, end_time: word.end, alternatives: alternatives(core, word.confidence ?? 1) },
      ...(trailing ? [{ ...mark(trailing, word.end, "previous"), is_eos: /[.?!]/.test(trailing) }] : []),
    ];
  });
}

function wholeSeconds(result: JobResult): number {
  return Math.round(result.durationSec ?? 0);
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
