import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { describeIssues } from "../validation/describe-issues.js";

/** Largest request body the emulator reads; a submit is a few hundred bytes. */
const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * A failure the API answers with `status`, in the dialect's error format: the dialect's body for
 * `message`, or `body` as given when the provider's error carries more (Rev.ai's `parameters`).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;

  constructor(status: number, message: string, headers: Record<string, string> = {}, body?: unknown) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/**
 * Reads the whole body. An oversized body is still drained (not destroyed) so the `413` answer
 * reaches the client instead of a reset connection.
 */
export function drainRequestBody(req: IncomingMessage, maxBytes = MAX_REQUEST_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > maxBytes) reject(new HttpError(413, `Request body is over ${maxBytes} bytes`, { connection: "close" }));
      else resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

/**
 * How a dialect answers JSON it cannot take: `error` says what does not fit the schema, and is
 * `undefined` when the text is not JSON at all.
 */
export type BodyRefusal = (error: z.ZodError | undefined) => HttpError;

/** A `400` with a generic message, in the dialect's error body. */
const refuseBody: BodyRefusal = (error) =>
  new HttpError(400, error === undefined ? "Request body is not valid JSON" : `Invalid request body: ${describeIssues(error)}`);

/** `raw` as JSON checked against `schema`; what does not do is thrown as `refuse` words it. */
export function parseJsonBody<S extends z.ZodType>(raw: Buffer, schema: S, refuse: BodyRefusal = refuseBody): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw refuse(undefined);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw refuse(parsed.error);
  return parsed.data;
}

/** The field an issue is about, as providers name it in their errors: its dotted path, `body` for the body itself. */
export function fieldOf(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join(".") || "body";
}

/** Sends `text` whole, with its length and `contentType`. */
export function send(res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, "content-type": contentType, "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, "application/json", JSON.stringify(body), headers);
}
