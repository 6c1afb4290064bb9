import { type Headers, headerValue } from "./verification.js";

/**
 * The token of an `Authorization: Bearer <token>` header, exactly as sent (the scheme's case and
 * the single space included); `undefined` when there is no such header.
 */
export function bearerToken(headers: Headers): string | undefined {
  return /^Bearer (.+)$/.exec(headerValue(headers, "authorization") ?? "")?.[1];
}
