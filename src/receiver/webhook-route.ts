import { hash, randomBytes } from "node:crypto";
import { constantTimeEqual } from "../verification/constant-time.js";

/**
 * Every job gets its own webhook URL: `{publicUrl}{path}/{provider}/{ref}/{token}`. The ref finds
 * the job, even before the provider's job id is known; the token, 192 random bits, proves the
 * sender saw the URL we gave the provider. Only the token's hash is stored.
 */
export interface WebhookRoute {
  provider: string;
  ref: string;
  token: string;
}

export function newRef(): string {
  return randomBytes(12).toString("base64url");
}

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

export function hashToken(token: string): string {
  return hash("sha256", token, "base64url");
}

export function tokenMatches(token: string, storedHash: string): boolean {
  return constantTimeEqual(hashToken(token), storedHash);
}

export function webhookUrl(baseUrl: string, path: string, route: WebhookRoute): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}/${route.provider}/${route.ref}/${route.token}`;
}

const PATH_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Parses a request path under `path`; `undefined` when it is not a webhook route. A job's URL
 * without its token (`{path}/{provider}/{ref}`) is a route with an empty token: refused `401`,
 * like a wrong token, not `404`.
 */
export function parseWebhookPath(pathname: string, path: string): WebhookRoute | undefined {
  if (!pathname.startsWith(`${path}/`)) return undefined;
  const parts = pathname.slice(path.length + 1).split("/");
  if (parts.length !== 2 && parts.length !== 3) return undefined;
  if (!parts.every((part) => PATH_SEGMENT.test(part))) return undefined;
  const [provider, ref, token = ""] = parts as [string, string, string?];
  return { provider, ref, token };
}
