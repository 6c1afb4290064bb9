import { createHmac } from "node:crypto";
import { constantTimeEqual } from "./constant-time.js";
import { type Secrets, type Verification, secretList } from "./verification.js";

/**
 * The reference protocol's `X-Webhook-Signature` scheme: one header holding `hex(HMAC-SHA256(secret, rawBody))`.
 * No timestamp, so it does not stop replays; the per-job URL token and idempotent intake do.
 */
export function signHmacHex(secret: string, rawBody: Buffer | string): string {
  return createHmac("sha256", secret).update(rawBody).digest("hex");
}

export function verifyHmacHex(secrets: Secrets, rawBody: Buffer, signature: string | undefined): Verification {
  if (!signature) return { ok: false, reason: "missing signature header" };
  const received = signature.trim().toLowerCase().replace(/^sha256=/, "");
  for (const secret of secretList(secrets)) {
    if (constantTimeEqual(received, signHmacHex(secret, rawBody))) return { ok: true };
  }
  return {
    ok: false,
    reason:
      "HMAC signature does not match: check the webhook secret (stray spaces, an old secret after rotation) " +
      "and that nothing re-serialised the body before it reached the receiver",
  };
}
