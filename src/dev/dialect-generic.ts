import { randomBytes } from "node:crypto";
import { HMAC_SIGNATURE_HEADER, type SubmitRequestBody, type TranscriptBody, submitRequestSchema } from "../providers/generic-wire.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { signHmacHex } from "../verification/hmac-hex.js";
import { signStandardWebhook } from "../verification/standard-webhooks.js";
import { headerValue } from "../verification/verification.js";
import type { EmulatedJob, WebhookStatus } from "./dev-job.js";
import { type Dialect, deliveredOn2xxFinalOn4xx } from "./dialect.js";
import { HttpError } from "./http-io.js";

/**
 * The reference protocol (the README's "The reference protocol"): Bearer key, `Idempotency-Key`,
 * webhooks signed both ways (`X-Webhook-Signature` and Standard Webhooks), 2xx delivered, 4xx
 * final, anything else retried after 1, 2, 4, 8, 16, 32 s; `POST …/redeliver` replays.
 */
export function genericDialect(webhookSecret: string): Dialect<SubmitRequestBody> {
  return {
    name: "generic",
    newJobId: () => `job_${randomBytes(12).toString("hex")}`,
    hasApiKey(req, apiKey) {
      const token = /^Bearer\s+(.+)$/i.exec(headerValue(req.headers, "authorization") ?? "")?.[1];
      return token !== undefined && constantTimeEqual(token.trim(), apiKey);
    },
    unauthorized: { message: "Missing or wrong API key: send Authorization: Bearer <apiKey>", headers: { "www-authenticate": "Bearer" } },
    errorBody: (_status, message) => ({ contentType: "application/json", body: { error: message } }),
    routes: (api) => [
      {
        method: "POST",
        pattern: /^\/v1\/transcripts$/,
        counts: "submits",
        async handle(req, res) {
          const request = await api.readJson(req, submitRequestSchema);
          if (!/^https?:$/.test(new URL(request.webhook_url).protocol)) {
            throw new HttpError(400, "Invalid request body: webhook_url must be an http or https URL");
          }
          const submission = { audioUrl: request.audio_url, webhook: { url: request.webhook_url, method: "POST" as const, headers: {} }, language: request.language, request };
          await api.submit(res, submission, headerValue(req.headers, "idempotency-key"), (job) => ({
            status: 201,
            body: { job_id: job.jobId, status: "queued" },
          }));
        },
      },
      {
        method: "GET",
        pattern: /^\/v1\/transcripts\/([^/]+)$/,
        counts: "statusFetches",
        async handle(_req, res, [jobId = ""]) {
          api.sendJson(res, 200, transcriptBody(api.job(jobId)));
        },
      },
      {
        method: "POST",
        pattern: /^\/v1\/transcripts\/([^/]+)\/redeliver$/,
        async handle(_req, res, [jobId = ""]) {
          api.redeliver(api.job(jobId));
          api.sendJson(res, 202, { status: "redelivering" });
        },
      },
    ],
    webhook(job, status, thin) {
      const target = job.submission.webhook;
      if (!target) return undefined;
      const body = Buffer.from(JSON.stringify(webhookBody(job, status, thin)));
      const webhookId = `msg_${job.jobId}_${status}`;
      return {
        url: target.url,
        method: "POST",
        // Both signatures on every attempt, with a fresh Standard Webhooks timestamp each time.
        headers: () => ({
          "content-type": "application/json",
          [HMAC_SIGNATURE_HEADER]: signHmacHex(webhookSecret, body),
          ...signStandardWebhook(webhookSecret, webhookId, body),
        }),
        body,
      };
    },
    verdict: deliveredOn2xxFinalOn4xx,
    retryDelaysMs: [1000, 2000, 4000, 8000, 16000, 32000],
  };
}

/** The job's current state as a full body: what `GET /v1/transcripts/{job_id}` answers. */
function transcriptBody(job: EmulatedJob<SubmitRequestBody>): TranscriptBody {
  const { outcome } = job;
  if (!outcome) return { job_id: job.jobId, status: job.status };
  if (outcome.status === "error") return { job_id: job.jobId, status: "error", error: outcome.error };
  const { text, words, language, durationSec } = outcome.result;
  return { job_id: job.jobId, status: "completed", text, words, language, duration: durationSec };
}

/**
 * The body of the webhook announcing `status`. A `processing` webhook never carries a result, even
 * a stale one sent after the job finished; a thin terminal one carries only the id and status.
 */
function webhookBody(job: EmulatedJob<SubmitRequestBody>, status: WebhookStatus, thin: boolean): TranscriptBody {
  return status === "processing" || thin ? { job_id: job.jobId, status } : transcriptBody(job);
}
