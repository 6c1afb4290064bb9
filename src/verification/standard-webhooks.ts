import { createHmac } from "node:crypto";
import { constantTimeEqual } from "./constant-time.js";
import { type Headers, type Secrets, type Verification, headerValue, secretList } from "./verification.js";

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`, several space-separated
 * signatures allowed. The key is the base64 part of a `whsec_` secret, else the secret's bytes.
 */

/** Default tolerance between the sender's timestamp and our clock. */
export const DEFAULT_TOLERANCE_SEC = 5 * 60;

function keyOf(secret: string): Buffer {
  return secret.startsWith("whsec_") ? Buffer.from(secret.slice("whsec_".length), "base64") : Buffer.from(secret, "utf8");
}

function signature(secret: string, id: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac("sha256", keyOf(secret))
    .update(`${id}.${timestamp}.`)
    .update(rawBody)
    .digest("base64");
}

/** Headers a sender adds to a body it signs with the Standard Webhooks scheme. */
export function signStandardWebhook(
  secret: string,
  id: string,
  rawBody: Buffer | string,
  now: Date = new Date(),
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${signature(secret, id, timestamp, rawBody)}`,
  };
}

export function hasStandardWebhookHeaders(headers: Headers): boolean {
  return headerValue(headers, "webhook-signature") !== undefined;
}

export function verifyStandardWebhook(
  secrets: Secrets,
  rawBody: Buffer,
  headers: Headers,
  options: { toleranceSec?: number; now?: Date } = {},
): Verification {
  const id = headerValue(headers, "webhook-id");
  const timestamp = headerValue(headers, "webhook-timestamp");
  const signatures = headerValue(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    return { ok: false, reason: "missing webhook-id, webhook-timestamp or webhook-signature header" };
  }
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: "webhook-timestamp is not unix seconds" };
  const tolerance = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const skew = Math.abs((options.now ?? new Date()).getTime() / 1000 - Number(timestamp));
  if (skew > tolerance) {
    return {
      ok: false,
      reason: `webhook-timestamp is ${Math.round(skew)} s away from this machine's clock (tolerance ${tolerance} s): a replay, or a clock out of sync`,
    };
  }
  const received = signatures
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3));
  for (const secret of secretList(secrets)) {
    const expected = signature(secret, id, timestamp, rawBody);
    if (received.some((candidate) => constantTimeEqual(candidate, expected))) return { ok: true };
  }
  return {
    ok: false,
    reason:
      "Standard Webhooks signature does not match: check the secret (a whsec_ secret is base64 after its prefix) " +
      "and that the raw body was not re-serialised",
  };
}
