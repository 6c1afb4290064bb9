import pg from "pg";
import type { ClientConfig, Pool, PoolConfig } from "pg";

/**
 * How long opening one connection may take before the database counts as unreachable. It bounds
 * each connection attempt only, never the wait for a pooled connection that is busy: a burst
 * larger than the pool queues for it (a busy pool is not an unreachable database).
 */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * How long a statement may go unanswered before its connection counts as broken (pg's client-side
 * `query_timeout`), and the database as unreachable. A connection whose peer vanished without a
 * word (a half-open one: the server's host died, a NAT or firewall forgot it) answers nothing and
 * reports no error for as long as TCP keeps trying, which is far longer: without this a statement
 * on it, and every one queued behind it, would wait that long. Counted from when the statement is
 * handed to its connection: the wait for a busy pooled connection is not part of it.
 */
export const QUERY_TIMEOUT_MS = 30_000;

/**
 * Idle time after which TCP keep-alive starts probing a connection (pg's default 0 leaves the
 * operating system's, often two hours), so that the kernel also gives up a dead idle connection.
 */
export const KEEP_ALIVE_INITIAL_DELAY_MS = 10_000;

/** A pool the store (or the CLI's reader) creates, and ends itself. */
export interface CreatedPool {
  connectionString: string | undefined;
  max: number;
  /** Bounds each connection attempt (see `CONNECT_TIMEOUT_MS`). */
  connectTimeoutMs: number;
  /** pg's `query_timeout` for every statement (see `QUERY_TIMEOUT_MS`). */
  queryTimeoutMs: number;
  /** `application_name`, to tell the connections apart in `pg_stat_activity`. */
  applicationName: string;
}

/**
 * A pool of at most `max` connections, each with TCP keep-alive, bounded connection attempts and
 * a client-side query timeout. No `connectionTimeoutMillis` on the pool: it would also bound the
 * wait for a busy pooled connection; each connection attempt is bounded by its client instead.
 */
export function createPool(settings: CreatedPool): Pool {
  return new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.max,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEP_ALIVE_INITIAL_DELAY_MS,
    query_timeout: settings.queryTimeoutMs,
    application_name: settings.applicationName,
    Client: clientConnectingWithin(settings.connectTimeoutMs),
  });
}

/**
 * The pool's client class, each connection attempt bounded by `timeoutMs` (pg's
 * `connectionTimeoutMillis` of a client). Given to the pool in place of the pool's own
 * `connectionTimeoutMillis`, which would also bound the wait for a busy pooled connection.
 */
function clientConnectingWithin(timeoutMs: number): NonNullable<PoolConfig["Client"]> {
  class BoundedClient extends pg.Client {
    constructor(config?: ClientConfig) {
      super({ ...config, connectionTimeoutMillis: timeoutMs });
    }
  }
  return BoundedClient as unknown as NonNullable<PoolConfig["Client"]>;
}

/**
 * A pool emits 'error' when one of its idle connections drops (the server restarted, a proxy
 * timed it out); without a listener that would crash the process. The pool has already dropped
 * that connection, and a query that fails for the same cause reports it.
 */
export function ignoreIdleClientError(): void {}
