import ky, { HTTPError, type Options, type ResponsePromise, type RetryOptions } from "ky";
import { z } from "zod";
import { AbortError, FetchResultError, SubmitError } from "../errors/index.js";
import { backoffDelay } from "../shared/backoff.js";
import { linkSignals } from "../shared/linked-signal.js";
import { delaysOutOfOrderIssue, delaysInOrder } from "../validation/delays-in-order.js";
import { describeIssues } from "../validation/describe-issues.js";
import type { Same } from "../validation/type-equality.js";

/** Retries of one request to a provider's API (a submit, a result fetch), exponential with jitter. */
export interface ProviderRetryOptions {
  /**
   * Retries after the first attempt, on network errors, timeouts, 408, 429 and 5xx; `0` never
   * retries. A retried submit carries the same idempotency key where the provider takes one.
   * @default 4
   */
  limit?: number;
  /**
   * First backoff delay, in ms; a `Retry-After` header from the provider wins.
   * @default 500
   */
  minDelayMs?: number;
  /**
   * Largest backoff delay, in ms.
   * @default 10_000
   */
  maxDelayMs?: number;
}

/** The request options every provider takes. */
export interface ProviderRequestOptions {
  /**
   * Timeout of one submit or result request, in ms.
   * @default 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Retries of a submit or result request.
   * @default every field at its own default
   */
  retry?: ProviderRetryOptions;
}

const requestRetrySchema = z
  .strictObject({
    limit: z.number().int().nonnegative().default(4),
    minDelayMs: z.number().nonnegative().default(500),
    maxDelayMs: z.number().nonnegative().default(10_000),
  })
  .refine(delaysInOrder, delaysOutOfOrderIssue);
true satisfies Same<z.input<typeof requestRetrySchema>, ProviderRetryOptions>;

/** The schema fields of `ProviderRequestOptions`, to spread into each provider's options schema. */
export const providerRequestShape = {
  requestTimeoutMs: z.number().int().positive().default(30_000),
  retry: requestRetrySchema.prefault({}),
};
true satisfies Same<z.input<z.ZodObject<typeof providerRequestShape>>, ProviderRequestOptions>;

type ResolvedRequestOptions = z.output<z.ZodObject<typeof providerRequestShape>>;

/** Reads the provider's own error text out of an error answer's JSON body; `undefined` when it has none. */
type ErrorTextReader = (body: unknown) => string | undefined;

/** A provider's HTTP API: its auth headers, timeout and retry policy, and its errors mapped to hookscribe's. */
export interface ProviderApi {
  /**
   * POSTs a submit and reads its JSON answer, checked against `schema`; rejects with a
   * `SubmitError` (or an `AbortError`), also when the provider took the job but answered a body
   * that does not fit. Retried per `retry`, except where the provider takes no idempotency key:
   * then only when it certainly did not take the job (429, 503, connection refused), so a retry
   * never bills twice.
   */
  submit<S extends z.ZodType>(path: string, options: Options, schema: S): Promise<z.output<S>>;
  /**
   * GETs a job's status or result as JSON; rejects with a `FetchResultError` (or an `AbortError`).
   * Retried per `retry` unless `options.retry` is `false`: then one request, over within
   * `requestTimeoutMs`, for a caller that keeps its own budget of attempts.
   */
  fetch(path: string, jobId: string, options: FetchRequestOptions): Promise<unknown>;
}

/** One GET's ky options, with retries either per the provider's `retry` option or none at all. */
export type FetchRequestOptions = Omit<Options, "retry"> & { retry?: boolean };

export function createProviderApi<E extends z.ZodType>(config: {
  /** The provider's name, for messages. */
  provider: string;
  baseUrl: string;
  headers: Record<string, string>;
  request: ResolvedRequestOptions;
  /** The provider's error answer; an answer that does not fit it carries no error text. */
  errorSchema: E;
  /** The provider's own error text, out of an error answer that fits `errorSchema`. */
  errorText(answer: z.output<E>): string | undefined;
  /** The provider recognises a retried submit as the same job (an idempotency key). */
  idempotentSubmits: boolean;
}): ProviderApi {
  const { request } = config;
  const errorText: ErrorTextReader = (body) => {
    const answer = config.errorSchema.safeParse(body);
    return answer.success ? config.errorText(answer.data) : undefined;
  };
  const retry: RetryOptions = {
    limit: request.retry.limit,
    methods: ["get", "post", "put", "delete"],
    statusCodes: [408, 429, 500, 502, 503, 504],
    afterStatusCodes: [429, 503],
    delay: (attempt) => backoffDelay(attempt, request.retry.minDelayMs, request.retry.maxDelayMs),
    retryOnTimeout: true,
  };
  const http = ky.create({
    prefixUrl: config.baseUrl.replace(/\/+$/, ""),
    headers: config.headers,
    timeout: request.requestTimeoutMs,
    retry,
    parseJson: parseJsonOrSize,
  });
  const submitFailure = async (error: unknown, signal: AbortSignal | undefined): Promise<Error> => {
    if (isAbort(error)) return new AbortError(undefined, signal?.reason);
    if (error instanceof NotJsonBody) return new SubmitError(`${config.provider} answered the submit with a body that is not JSON, ${error.size}`, {});
    const { status, providerMessage } = await describeHttpFailure(error, errorText);
    if (status === undefined) return new SubmitError(`Could not reach ${config.provider} at ${config.baseUrl}: ${providerMessage}`, {});
    return new SubmitError(`${config.provider} refused the submit with HTTP ${status}${hintFor(status)}: ${providerMessage ?? "no error text"}`, {
      status,
      providerMessage,
    });
  };
  const fetchFailure = async (error: unknown, jobId: string, signal: AbortSignal | undefined): Promise<Error> => {
    if (isAbort(error)) return new AbortError(jobId, signal?.reason);
    if (error instanceof NotJsonBody) return new FetchResultError(jobId, `The ${config.provider} result of job ${jobId} was not JSON, ${error.size}`);
    const { status, providerMessage } = await describeHttpFailure(error, errorText);
    return new FetchResultError(
      jobId,
      `Fetching job ${jobId} from ${config.provider} failed${status === undefined ? "" : ` with HTTP ${status}${hintFor(status)}`}: ${providerMessage ?? "no error text"}`,
      { status },
    );
  };
  const submitRetry = config.idempotentSubmits ? {} : { retry: { ...retry, shouldRetry: certainlyNotTaken } };
  /**
   * Sends a request and reads its JSON body within `requestTimeoutMs` of the headers: ky's own
   * timeout ends when the headers arrive, and a body that trickles in would otherwise hold the
   * call (and a worker slot, and `close()`) for as long as the provider keeps it open.
   */
  const exchange = async (send: (signal: AbortSignal) => ResponsePromise, caller: AbortSignal | null | undefined): Promise<{ status: number; body: unknown }> => {
    const bodyDeadline = new AbortController();
    const linked = linkSignals(caller ?? undefined, bodyDeadline.signal);
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = send(linked.signal);
      const { status } = await answer;
      timer = setTimeout(() => bodyDeadline.abort(new BodyTimeoutError(request.requestTimeoutMs)), request.requestTimeoutMs);
      return { status, body: await answer.json() };
    } finally {
      clearTimeout(timer);
      linked.unlink();
    }
  };
  return {
    async submit(path, options, schema) {
      let status: number;
      let body: unknown;
      try {
        ({ status, body } = await exchange((signal) => http.post(path, { ...options, ...submitRetry, signal }), options.signal));
      } catch (error) {
        throw await submitFailure(error, options.signal ?? undefined);
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        throw new SubmitError(`${config.provider} accepted the submit but answered an unexpected body (${describeIssues(parsed.error)})`, { status });
      }
      return parsed.data;
    },
    async fetch(path, jobId, { retry: retried = true, ...options }) {
      try {
        return (await exchange((signal) => http.get(path, { ...options, ...(retried ? {} : { retry: 0 }), signal }), options.signal)).body;
      } catch (error) {
        throw await fetchFailure(error, jobId, options.signal ?? undefined);
      }
    },
  };
}

/** The body of an answer did not arrive whole within the request timeout. */
class BodyTimeoutError extends Error {
  override readonly name = "TimeoutError";

  constructor(ms: number) {
    super(`the answer's body did not arrive whole within ${ms} ms`);
  }
}

/**
 * A 2xx answer whose body is not JSON. It names the size alone: the body may be a transcript (or
 * any text of the provider's), and JSON.parse's own message quotes the start of it.
 */
class NotJsonBody extends Error {
  constructor(readonly size: string) {
    super(`a body that is not JSON, ${size}`);
  }
}

function parseJsonOrSize(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new NotJsonBody(`${Buffer.byteLength(text).toLocaleString("en-US")} bytes`);
  }
}

const REFUSED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * For a submit the provider cannot recognise when retried: retry (as usual) only what shows the
 * job was not taken: 429 and 503 (come back later), or a connection that was never made. A
 * timeout, a reset or another 5xx may hide an accepted, billed job: not retried.
 */
function certainlyNotTaken({ error }: { error: Error }): boolean | undefined {
  if (error instanceof HTTPError) return error.response.status === 429 || error.response.status === 503 ? undefined : false;
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && REFUSED.has(code) ? undefined : false;
}

function isAbort(error: unknown): boolean {
  return (error as Error | undefined)?.name === "AbortError";
}

/**
 * Status and error text of a failed request. ky's errors are deliberately not kept as a `cause`:
 * they carry the request, and printing one (util.inspect, an uncaught error) would show the
 * API key in its headers.
 */
async function describeHttpFailure(error: unknown, errorText: ErrorTextReader): Promise<{ status?: number; providerMessage?: string }> {
  if (!(error instanceof HTTPError)) return { providerMessage: (error as Error).message };
  const status = error.response.status;
  const text = await error.response.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's HTML page, say): say what it was, never echo it.
    return { status, providerMessage: text === "" ? undefined : `a non-JSON answer of ${Buffer.byteLength(text)} bytes` };
  }
  return { status, providerMessage: errorText(body) };
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return " (check apiKey)";
  if (status === 404) return " (check baseUrl, or the job id)";
  if (status === 429) return " (rate limited, retries exhausted)";
  if (status >= 500) return " (provider error)";
  return "";
}
