import type { Headers } from "./verification.js";

/** An incoming webhook, as the receiver hands it to a provider. */
export interface WebhookRequest {
  headers: Headers;
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: Buffer;
}
