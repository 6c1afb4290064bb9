import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import type { EmulatedJob, JobSubmission, WebhookStatus } from "./dev-job.js";
import type { BodyRefusal, HttpError } from "./http-io.js";

/** The wire formats the emulator speaks: our reference protocol, and each real provider's. */
export const DIALECT_NAMES = ["generic", "assemblyai", "deepgram", "revai", "speechmatics", "gladia"] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];

/** One webhook message: the same bytes on every attempt; `headers` is called again for each attempt (fresh timestamps). */
export interface OutgoingWebhook {
  /** The URL as given, plus whatever the provider appends (Speechmatics: `?id=…&status=…`). */
  url: string;
  method: "POST" | "PUT";
  headers(): Record<string, string>;
  body: Buffer;
}

/** How a provider's sender reads the receiver's answer to one attempt. */
export type AttemptVerdict = "delivered" | "retry" | "final";

/** A sender that takes any 2xx as delivered and retries anything else, a 4xx included. */
export function deliveredOn2xxElseRetry(statusCode: number): AttemptVerdict {
  return statusCode >= 200 && statusCode < 300 ? "delivered" : "retry";
}

/** A sender that takes any 2xx as delivered, gives up on a 4xx (the receiver refused it for good) and retries anything else. */
export function deliveredOn2xxFinalOn4xx(statusCode: number): AttemptVerdict {
  return statusCode >= 400 && statusCode < 500 ? "final" : deliveredOn2xxElseRetry(statusCode);
}

export interface DialectRoute {
  method: string;
  /** Which counter of `DevProviderStats` a request to this route bumps (before its key is checked). */
  counts?: "submits" | "statusFetches";
  /** Matched against the path; its groups are handed to `handle`. */
  pattern: RegExp;
  handle(req: IncomingMessage, res: ServerResponse, params: string[]): Promise<void>;
}

/** What a dialect's routes get from the emulator: jobs, faults, statistics and HTTP helpers. */
export interface DialectApi<R> {
  /**
   * Runs a submit the way every dialect shares: a simulated outage first (`faults.failFirstSubmits`,
   * answered `503`), a repeat of an idempotency key answered with the job it created, else a new
   * job started (finished first under `faults.webhookBeforeSubmitResponse`). `answer` says what the
   * submit answers for the job.
   */
  submit(
    res: ServerResponse,
    submission: JobSubmission<R>,
    idempotencyKey: string | undefined,
    answer: (job: EmulatedJob<R>) => { status: number; body: unknown },
  ): Promise<void>;
  /** A job by its id, or a `404` in the dialect's format (its `notFound` where it has one). */
  job(jobId: string): EmulatedJob<R>;
  /** Starts sending a finished job's terminal webhook again (generic's `/redeliver`). */
  redeliver(job: EmulatedJob<R>): void;
  /**
   * The request body as JSON checked against `schema`, or a `400`: `refuse`'s, for a dialect whose
   * provider words it its own way, else the dialect's error body with a generic message.
   */
  readJson<S extends z.ZodType>(req: IncomingMessage, schema: S, refuse?: BodyRefusal): Promise<z.output<S>>;
  readBody(req: IncomingMessage): Promise<Buffer>;
  sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void;
  /** Sends a body that is not `application/json` (problem+json, plain text). */
  send(res: ServerResponse, status: number, contentType: string, text: string): void;
}

/**
 * One provider's wire format, as the emulator speaks it: its API (paths, auth, validation and
 * error bodies), its webhooks (payloads, echoed auth) and its sender's delivery rules. One file
 * per dialect: `dialect-<name>.ts`.
 */
export interface Dialect<R> {
  readonly name: DialectName;
  /** A new job id in the provider's own shape (a UUID, `job_…`). */
  newJobId(): string;
  /** `true` when the request carries `apiKey` the way this provider expects it. */
  hasApiKey(req: IncomingMessage, apiKey: string): boolean;
  /** What a request without the right key is answered: the provider's message and headers. */
  readonly unauthorized: { message: string; headers?: Record<string, string> };
  /** The provider's error body for `status` and `message`, with its content type. */
  errorBody(status: number, message: string): { contentType: string; body: unknown };
  /** The `404` for an unknown job id, where the provider's carries more than `errorBody` gives. */
  notFound?(jobId: string): HttpError;
  /** The API beyond `/files/`. */
  routes(api: DialectApi<R>): DialectRoute[];
  /** The webhook announcing that `job` reached `status`; `undefined` when this provider sends none for it. */
  webhook(job: EmulatedJob<R>, status: WebhookStatus, thin: boolean): OutgoingWebhook | undefined;
  /** How the provider's sender reads an answer's status code. */
  verdict(statusCode: number): AttemptVerdict;
  /** The provider's own retry schedule, used unless `retryDelaysMs` is given. */
  readonly retryDelaysMs: readonly number[];
}
