import { StoreError } from "../errors/index.js";
import { postgresStore } from "../postgres/index.js";
import type { JobStore, StoreReader } from "../store/job-store.js";
import { PostgresStoreReader } from "../store/postgres/postgres-store-reader.js";

/*
 * The CLI's PostgreSQL side, loaded by postgres-loader.ts only for `--database-url`: the one CLI
 * module that imports `pg` (through the store). The URL is only ever handed to `pg`; messages name
 * the store by its location (host, port, database, schema), never by the URL, which may hold a
 * password.
 */

/** The store for `serve`, `transcribe`, `mcp` and `dlq replay`: created now, opened by the client. */
export function sharedStore(connectionString: string, schema: string): JobStore {
  return postgresStore({ connectionString, schema });
}

/** A reader that must be closed once read. */
export interface ClosableReader extends StoreReader {
  close(): Promise<void>;
}

/** Connections a read command uses at most. */
const READER_CONNECTIONS = 2;

/**
 * The store at `connectionString`/`schema`, for the read commands: only read (`PostgresStoreReader`:
 * no migration, no listening connection, no holds), so a role allowed only to SELECT can run them.
 * A schema without hookscribe's tables is refused with "No store here yet", like a missing JSON
 * file: a read creates nothing (a mistyped `--schema` does not leave an empty schema behind).
 */
export async function openReader(connectionString: string, schema: string): Promise<ClosableReader> {
  const reader = new PostgresStoreReader({ connectionString, schema, maxConnections: READER_CONNECTIONS, applicationName: "hookscribe cli" });
  try {
    if (!(await reader.open())) throw new StoreError(reader.location, "No store here yet (nothing was transcribed with this --database-url and --schema?)");
  } catch (error) {
    await reader.close().catch(() => undefined);
    throw error;
  }
  return reader;
}
