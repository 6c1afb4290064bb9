import { createHash, randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { z } from "zod";
import { DG_TOKEN_HEADER, type FailureCallback, type ListenResponse } from "../providers/deepgram-wire.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { headerValue } from "../verification/verification.js";
import type { EmulatedJob } from "./dev-job.js";
import { type Dialect, deliveredOn2xxElseRetry } from "./dialect.js";
import { HttpError } from "./http-io.js";
import { meanConfidence } from "./mean-confidence.js";
import { speakerNumbering } from "./speaker-numbering.js";
import type { JobResult } from "./transcript-engine.js";

/** The query parameters of a submit that shape its result. */
interface ListenRequest {
  /** `extra=key:value` pairs, echoed in `metadata.extra`; a repeated key keeps its last value. */
  extra: Record<string, string>;
  /** `punctuate` or `smart_format`: words get `punctuated_word` and the transcript keeps the engine's punctuation. */
  punctuate: boolean;
  diarize: boolean;
  detectLanguage: boolean;
  model: string;
}

const listenBodySchema = z.object({ url: z.string().url() });

const MODEL_UUID = "1abfe86b-e047-4eed-858a-35e5625b41ee";

/**
 * Deepgram's pre-recorded API with callbacks: `POST /v1/listen?callback=…` with `Authorization:
 * Token <key>` and JSON `{url}`, answered `200 {request_id}`; one callback per request, the full
 * result (or a failure), echoing the `extra` pairs and carrying `dg-token: <apiKeyId>`; any non-2xx
 * answer retried 10 times 30 s apart. A request without `callback` is refused with a `400` (Deepgram
 * would transcribe it synchronously). Errors are the legacy `{err_code, err_msg, request_id}`.
 */
export function deepgramDialect(apiKeyId: string): Dialect<ListenRequest> {
  return {
    name: "deepgram",
    newJobId: () => randomUUID(),
    hasApiKey(req, apiKey) {
      const token = /^Token\s+(.+)$/i.exec(headerValue(req.headers, "authorization") ?? "")?.[1];
      return token !== undefined && constantTimeEqual(token.trim(), apiKey);
    },
    unauthorized: { message: "Invalid credentials." },
    errorBody: (status, message) => ({
      contentType: "application/json",
      body: { err_code: status === 401 ? "INVALID_AUTH" : (STATUS_CODES[status] ?? `HTTP ${status}`), err_msg: message, request_id: randomUUID() },
    }),
    routes: (api) => [
      {
        method: "POST",
        pattern: /^\/v1\/listen$/,
        counts: "submits",
        async handle(req, res) {
          const { url } = await api.readJson(req, listenBodySchema);
          const query = new URL(req.url ?? "/", "http://dev-provider.invalid").searchParams;
          const callback = query.get("callback");
          if (callback === null) {
            throw new HttpError(400, "Bad Request: this emulator only runs callback requests; add the callback query parameter (Deepgram answers a request without one synchronously)");
          }
          if (!URL.canParse(callback) || !/^https?:$/.test(new URL(callback).protocol)) {
            throw new HttpError(400, "Bad Request: callback must be an http or https URL");
          }
          const method = (query.get("callback_method") ?? "POST").toUpperCase();
          if (!isCallbackMethod(method)) throw new HttpError(400, "Bad Request: callback_method must be post or put");
          const request: ListenRequest = {
            extra: extraPairs(query.getAll("extra")),
            punctuate: query.get("punctuate") === "true" || query.get("smart_format") === "true",
            diarize: query.get("diarize") === "true",
            detectLanguage: query.get("detect_language") === "true",
            model: query.get("model") ?? "base",
          };
          const submission = { audioUrl: url, webhook: { url: callback, method, headers: {} }, language: query.get("language") ?? undefined, request };
          // Deepgram takes no idempotency key.
          await api.submit(res, submission, undefined, (job) => ({ status: 200, body: { request_id: job.jobId } }));
        },
      },
    ],
    webhook(job, status) {
      // Deepgram announces nothing but the outcome, and always sends it whole.
      const target = job.submission.webhook;
      if (status === "processing" || job.outcome === undefined || !target) return undefined;
      const body = Buffer.from(JSON.stringify(job.outcome.status === "completed" ? listenResponse(job, job.outcome.result) : failureCallback(job, job.outcome.error)));
      return {
        url: target.url,
        method: target.method,
        headers: () => ({ "content-type": "application/json", [DG_TOKEN_HEADER]: apiKeyId }),
        body,
      };
    },
    verdict: deliveredOn2xxElseRetry,
    retryDelaysMs: Array.from({ length: 10 }, () => 30_000),
  };
}

function isCallbackMethod(method: string): method is "POST" | "PUT" {
  return method === "POST" || method === "PUT";
}

function extraPairs(values: string[]): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const pair of values) {
    const colon = pair.indexOf(":");
    if (colon <= 0) throw new HttpError(400, "Bad Request: extra must be key:value");
    extra[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return extra;
}

function metadata(job: EmulatedJob<ListenRequest>, durationSec: number): ListenResponse["metadata"] {
  const { extra, model } = job.submission.request;
  return {
    transaction_key: "deprecated",
    request_id: job.jobId,
    sha256: createHash("sha256").update(job.submission.audioUrl).digest("hex"),
    created: new Date(job.createdAt).toISOString(),
    duration: durationSec,
    channels: 1,
    models: [MODEL_UUID],
    model_info: { [MODEL_UUID]: { name: `general-${model}`, version: "2024-01-01.0", arch: model } },
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

function listenResponse(job: EmulatedJob<ListenRequest>, result: JobResult): ListenResponse {
  const { punctuate, diarize, detectLanguage } = job.submission.request;
  const speakerOf = speakerNumbering();
  const words = result.words.map((word) => {
    const speaker = speakerOf(word.speaker);
    return {
      word: word.text.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, ""),
      start: word.start,
      end: word.end,
      confidence: word.confidence ?? 1,
      ...(diarize ? { speaker } : {}),
      ...(punctuate ? { punctuated_word: word.text } : {}),
    };
  });
  const confidence = meanConfidence(words.map((word) => word.confidence)) ?? 0;
  const transcript = punctuate ? result.text : words.map((word) => word.word).join(" ");
  return {
    metadata: metadata(job, result.durationSec ?? words.at(-1)?.end ?? 0),
    results: {
      channels: [{ alternatives: [{ transcript, confidence, words }], ...(detectLanguage ? { detected_language: result.language ?? "en" } : {}) }],
    },
  };
}

/** The failure callback hookscribe expects (Deepgram documents none): the legacy error body plus `metadata`. */
function failureCallback(job: EmulatedJob<ListenRequest>, error: string): FailureCallback {
  return { err_code: "Bad Request", err_msg: error, request_id: job.jobId, metadata: metadata(job, 0) };
}
