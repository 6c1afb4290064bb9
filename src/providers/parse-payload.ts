import type { z } from "zod";
import { describeIssues } from "../validation/describe-issues.js";
import { ProviderPayloadError } from "../errors/index.js";

/**
 * Validates what a provider sent against its wire schema; a mismatch throws a
 * `ProviderPayloadError` naming the fields that do not fit (never their content).
 */
export function parsePayload<S extends z.ZodType>(schema: S, value: unknown, provider: string, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ProviderPayloadError(provider, `The ${provider} ${what} does not match its schema: ${describeIssues(parsed.error)}`);
}
