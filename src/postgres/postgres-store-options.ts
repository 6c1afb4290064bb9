import type { Pool } from "pg";
import { z } from "zod";
import { SCHEMA_NAME } from "../store/postgres/sql-identifier.js";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";

/**
 * Options of `postgresStore(options)`: where the database is (`connectionString` or `pool`,
 * exactly one) and how replicas share work. An unknown key is an error.
 */
export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:5432/database`: the store creates a pool of at most
   * `maxConnections` connections on `start()` and ends it on `close()`. Give this or `pool`.
   * @default undefined (then `pool` is required)
   */
  connectionString?: string;
  /**
   * A `pg.Pool` of the application's, to share its connections and settings (TLS, timeouts). The
   * store never ends it. Give this or `connectionString`.
   * @default undefined (then `connectionString` is required)
   */
  pool?: Pool;
  /**
   * The PostgreSQL schema that holds hookscribe's tables, created or migrated on `start()`.
   * Lower-case letters, digits and `_`, at most 48 characters; replicas that share jobs use the
   * same one.
   * @default "hookscribe"
   */
  schema?: string;
  /**
   * How long a delivery stays with a replica that stopped renewing its hold (it died), in ms,
   * before another replica takes it over. Live replicas renew every `leaseMs / 3`.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * Size of the pool the store creates from `connectionString` (one more connection listens for
   * other replicas' changes). Not for a `pool` you give: size that one yourself.
   * @default 10
   */
  maxConnections?: number;
  /**
   * While the database is unreachable, check this often whether it is back, in ms.
   * @default 500
   */
  probeIntervalMs?: number;
}

const DEFAULT_MAX_CONNECTIONS = 10;

/** A pool by its shape, so a pool from another copy of `pg` is accepted too. */
function isPool(value: unknown): value is Pool {
  const candidate = value as Partial<Record<"connect" | "query" | "end" | "on", unknown>> | null;
  return typeof candidate === "object" && candidate !== null && [candidate.connect, candidate.query, candidate.end, candidate.on].every((method) => typeof method === "function");
}

const optionsSchema = z
  .strictObject({
    connectionString: z.string().min(1).optional(),
    pool: z.custom<Pool>(isPool, "must be a pg.Pool").optional(),
    schema: z.string().regex(SCHEMA_NAME, "must be lower-case letters, digits and _, starting with a letter or _, at most 48 characters").default("hookscribe"),
    leaseMs: z.number().int().min(100).default(30_000),
    maxConnections: z.number().int().min(1).optional(),
    probeIntervalMs: z.number().int().min(10).default(500),
  })
  .superRefine((options, context) => {
    if ((options.connectionString === undefined) === (options.pool === undefined)) {
      context.addIssue({ code: "custom", message: "give exactly one of connectionString and pool" });
    }
    if (options.pool !== undefined && options.maxConnections !== undefined) {
      context.addIssue({ code: "custom", path: ["maxConnections"], message: "only sizes the pool made from connectionString; size your own pool when you create it" });
    }
  })
  .transform(({ maxConnections, ...options }) => ({ ...options, maxConnections: maxConnections ?? DEFAULT_MAX_CONNECTIONS }));

// Fails to compile when the interface above and the schema disagree on a field.
true satisfies Same<z.input<typeof optionsSchema>, PostgresStoreOptions>;

export type ResolvedPostgresStoreOptions = z.output<typeof optionsSchema>;

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolvePostgresStoreOptions(options: PostgresStoreOptions): ResolvedPostgresStoreOptions {
  return parseOptions(optionsSchema, options, "postgresStore");
}
