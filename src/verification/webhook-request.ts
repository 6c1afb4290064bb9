import type { Headers } from "./verification.js";

/** An incoming webhook, as the receiver hands it to a provider. */
export interface WebhookRequest {
  headers: Headers;
  /** The query string of the request (Speechmatics puts the job id and status there). */
  query: URLSearchParams;
  /** The body's media type, lower-cased and without parameters; `undefined` when none was sent. */
  contentType: string | undefined;
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: Buffer;
}

/** What a provider may check a webhook against besides its own scheme. */
export interface WebhookContext {
  /**
   * `true` when `candidate` is the random secret hookscribe handed the provider with this job's
   * submit (`SubmitRequest.webhookSecret`), compared in constant time. Only its hash is stored.
   */
  isJobSecret(candidate: string): boolean;
}
