import { StoreError } from "../../errors/index.js";

/** Socket errors: the server cannot be reached, or the connection to it broke. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** SQLSTATEs of a server that is going away or not taking connections (class 08 is matched as a whole). */
const SERVER_GONE_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);

/**
 * node-postgres' own errors for a broken connection, a pool that could not get one in time, or a
 * statement that got no answer within `query_timeout` (a half-open connection); they carry no code.
 */
const CLIENT_MESSAGES = /^(Connection terminated|timeout expired|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;

/**
 * `true` when `error` says the database cannot be reached (not that a statement was wrong): the
 * store then refuses writes until a probe reaches the database again.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (NETWORK_CODES.has(code) || SERVER_GONE_CODES.has(code) || code.startsWith("08"))) return true;
  return CLIENT_MESSAGES.test(error.message);
}

/**
 * `true` for node-postgres' error of a pool whose `connectionTimeoutMillis` passed while a query
 * waited for a connection. On its own it does not say the database is unreachable: a query also
 * waits that long when every connection of the pool is busy with others.
 */
export function isPoolWaitTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === "timeout exceeded when trying to connect";
}

/**
 * `error` as a `StoreError` saying what failed (`doing`, e.g. "store the job") and its likely
 * cause. Only the error's code and message are shown: PostgreSQL puts row content in an error's
 * `detail`, never in its message, and socket errors name a host and port, never a password.
 */
export function toStoreError(location: string, doing: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const cause = isConnectionError(error) ? `the database is unreachable (${reasonOf(error)})` : `PostgreSQL said ${reasonOf(error)}`;
  return new StoreError(location, `Cannot ${doing}: ${cause}`, { cause: error });
}

/** `57P01: terminating connection due to administrator command`, `ECONNREFUSED`. */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return error.message;
  return NETWORK_CODES.has(code) ? code : `${code}: ${error.message}`;
}
