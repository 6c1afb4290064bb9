/** Outcome of checking a webhook's authenticity. `reason` is safe to log: it never holds a secret. */
export type Verification = { ok: true } | { ok: false; reason: string };

/** Lower-cased header map, as node:http gives it. */
export type Headers = Record<string, string | string[] | undefined>;

export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Webhook secrets: one, or several during a rotation (any of them verifies). */
export type Secrets = string | readonly string[];

export function secretList(secrets: Secrets): string[] {
  const list = (typeof secrets === "string" ? [secrets] : [...secrets]).filter((s) => s.length > 0);
  return list;
}
