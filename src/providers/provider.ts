import type { ProviderEvent } from "../domain/provider-event.js";
import type { Verification } from "../verification/verification.js";
import type { WebhookContext, WebhookRequest } from "../verification/webhook-request.js";

/** What `transcribe()` asks a provider to start. */
export interface SubmitRequest {
  audioUrl: string;
  /** Where the provider must send its webhooks; carries the per-job token. */
  webhookUrl: string;
  /**
   * A random secret for this job alone. A provider that echoes a header or a field back in its
   * webhooks (AssemblyAI, Rev.ai, Speechmatics, Deepgram) sends it there, and `authenticate`
   * checks it with `WebhookContext.isJobSecret`.
   */
  webhookSecret: string;
  language?: string;
  metadata?: Record<string, unknown>;
}

export interface SubmitContext {
  /** Same value on every retry of one `transcribe()` call, so the provider can deduplicate. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

/**
 * A speech-to-text provider, as data: adding one touches one file (and its wire schemas).
 * `acceptsContentType`, `authenticate` and `parse` run inside the receiver before the ack, so
 * they must be fast and must not do I/O.
 */
export interface Provider {
  /** Short identifier, used in webhook paths, logs and `Transcript.provider`. */
  readonly name: string;
  /** API base URL; hookscribe checks that the provider can reach the receiver from there. */
  readonly baseUrl: string;
  /** Starts a job; resolves with the provider's job id. Rejects with `SubmitError`. */
  submit(request: SubmitRequest, context: SubmitContext): Promise<{ jobId: string }>;
  /**
   * Whether a webhook with this body media type can be for this provider; others are answered
   * `415` before the body is read. `undefined`: no `Content-Type` header.
   */
  acceptsContentType(contentType: string | undefined): boolean;
  /** Checks the webhook's signature, echoed secret or shared header. Never throws. */
  authenticate(request: WebhookRequest, context: WebhookContext): Verification;
  /**
   * Turns an authenticated webhook into one event, or `null` for a notification that is not about
   * a job's status (e.g. AssemblyAI's redacted audio): answered `200` and ignored. Throws a
   * `ProviderPayloadError` on a payload it does not understand (answered `400`).
   */
  parse(request: WebhookRequest): ProviderEvent | null;
  /**
   * Fetches the job's current state, with the transcript when it is completed (and the failure
   * message when it failed). Absent when the provider keeps no result to fetch (Deepgram): then
   * the webhook's body is the only copy, and a deadline ends without a status check.
   * `retry: false` makes each request one attempt, with no HTTP-level retries: for callers that
   * have their own budget (the worker's attempts, the deadline's one status check).
   */
  fetchResult?(jobId: string, options?: { signal?: AbortSignal; retry?: boolean }): Promise<ProviderEvent>;
  /**
   * Throws a `ConfigurationError` naming the rule when the provider cannot call back to this
   * public receiver URL (Deepgram only calls ports 80, 443, 8080 and 8443).
   */
  checkWebhookUrl?(publicUrl: string): void;
}
