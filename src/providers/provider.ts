import type { Verification } from "../verification/verification.js";
import type { WebhookRequest } from "../verification/webhook-request.js";
import type { ProviderEvent } from "../domain/provider-event.js";

/** What `transcribe()` asks a provider to start. */
export interface SubmitRequest {
  audioUrl: string;
  /** Where the provider must POST its webhooks; carries the per-job token. */
  webhookUrl: string;
  language?: string;
  metadata?: Record<string, unknown>;
}

export interface SubmitContext {
  /** Same value on every retry of one `transcribe()` call, so the provider can deduplicate. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

/**
 * A speech-to-text provider, as data: adding one touches one file. `authenticate` and `parse`
 * run inside the receiver before the ack, so they must be fast and must not do I/O.
 */
export interface Provider {
  /** Short identifier, used in webhook paths, logs and `Transcript.provider`. */
  readonly name: string;
  /** API base URL; hookscribe checks that the provider can reach the receiver from there. */
  readonly baseUrl: string;
  /** Starts a job; resolves with the provider's job id. Rejects with `SubmitError`. */
  submit(request: SubmitRequest, context: SubmitContext): Promise<{ jobId: string }>;
  /** Checks the webhook's signature or shared header. Never throws. */
  authenticate(request: WebhookRequest): Verification;
  /** Turns a parsed JSON body into one event. Throws a `ProviderPayloadError` on a payload it does not understand. */
  parse(body: unknown): ProviderEvent;
  /** Fetches the job's current state, with the transcript when it is completed. */
  fetchResult?(jobId: string, options?: { signal?: AbortSignal }): Promise<ProviderEvent>;
}
