import type { JobStore } from "hookscribe";
import { PostgresJobStore } from "../store/postgres/postgres-job-store.js";
import { type PostgresStoreOptions, resolvePostgresStoreOptions } from "./postgres-store-options.js";

/**
 * A store in PostgreSQL, for `new Transcriber({ store })`: every replica of a service given one on
 * the same database and schema shares jobs, deliveries and dead letters, so a webhook that lands
 * on any replica resolves the `await` in whichever one submitted the job. Nothing connects before
 * the client starts; bad options throw a `ConfigurationError` at once.
 *
 * ```ts
 * store: postgresStore({ connectionString: process.env.DATABASE_URL })
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): JobStore {
  return new PostgresJobStore(resolvePostgresStoreOptions(options));
}
