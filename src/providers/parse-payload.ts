import type { z } from "zod";
import { ProviderPayloadError } from "../errors/index.js";
import { describeIssues } from "../validation/describe-issues.js";
import type { WebhookRequest } from "../verification/webhook-request.js";

/**
 * Validates what a provider sent against its wire schema; a mismatch throws a
 * `ProviderPayloadError` naming the fields that do not fit (never their content).
 */
export function parsePayload<S extends z.ZodType>(schema: S, value: unknown, provider: string, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ProviderPayloadError(provider, `The ${provider} ${what} does not match its schema: ${describeIssues(parsed.error)}`);
}

/** A webhook's JSON body, validated like `parsePayload`; a body that is not JSON is a `ProviderPayloadError` too. */
export function parseJsonWebhook<S extends z.ZodType>(request: WebhookRequest, schema: S, provider: string): z.output<S> {
  const json = jsonOrUndefined(request.rawBody);
  if (json === undefined) throw new ProviderPayloadError(provider, `The ${provider} webhook body is not valid JSON (${request.rawBody.length} bytes)`);
  return parsePayload(schema, json, provider, "webhook body");
}

/** A body as JSON, or `undefined` when it is not JSON (JSON itself has no `undefined`); never throws. */
export function jsonOrUndefined(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** `application/json` or any `application/*+json`: what most providers send their webhooks as. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType === "application/json" || (contentType?.startsWith("application/") === true && contentType.endsWith("+json"));
}

/**
 * JSON, or no `Content-Type` at all: for providers that document JSON webhook bodies but not
 * their headers, so a missing type is not refused (a `415` would only make them retry).
 */
export function isJsonOrUntyped(contentType: string | undefined): boolean {
  return contentType === undefined || isJsonContentType(contentType);
}
