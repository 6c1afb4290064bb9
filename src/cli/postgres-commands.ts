import pg from "pg";
import { StoreError } from "../errors/index.js";
import { postgresStore } from "../postgres/index.js";
import type { JobStore, StoreReader } from "../store/job-store.js";
import { toStoreError } from "../store/postgres/failures.js";
import { describeLocation } from "../store/postgres/location.js";
import { quotedSchema } from "../store/postgres/sql-identifier.js";

/*
 * The CLI's PostgreSQL side, loaded by postgres-loader.ts only for `--database-url`: the one CLI
 * module that imports `pg`. The URL is only ever handed to `pg`; messages name the store by
 * `describeLocation` (host, port, database, schema), never by the URL, which may hold a password.
 */

/** The store for `serve`, `transcribe`, `mcp` and `dlq replay`: created now, opened by the client. */
export function sharedStore(connectionString: string, schema: string): JobStore {
  return postgresStore({ connectionString, schema });
}

/** A reader that must be closed once read. */
export interface ClosableReader extends StoreReader {
  close(): Promise<void>;
}

/** Connections a read command uses at most (plus the store's listener). */
const READER_CONNECTIONS = 2;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * The store at `connectionString`/`schema`, opened for the read commands. A schema without
 * hookscribe's tables is refused with "No store here yet", like a missing JSON file: a read
 * creates nothing (a mistyped `--schema` does not leave an empty schema behind).
 */
export async function openReader(connectionString: string, schema: string): Promise<ClosableReader> {
  const location = describeLocation({ connectionString }, schema);
  const pool = new pg.Pool({ connectionString, max: READER_CONNECTIONS, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: "hookscribe cli" });
  // An idle connection that drops would otherwise crash the command; the next query reports it.
  pool.on("error", () => undefined);
  let store: JobStore | undefined;
  try {
    const { rows } = await pool.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [`${quotedSchema(schema)}.jobs`]);
    if (!rows[0]?.present) throw new StoreError(location, "No store here yet (nothing was transcribed with this --database-url and --schema?)");
    store = postgresStore({ pool, schema });
    await store.open();
  } catch (error) {
    await store?.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw toStoreError(location, "open the store", error);
  }
  const opened = store;
  return {
    location: opened.location,
    listJobs: (listing) => opened.listJobs(listing),
    jobByProviderId: (provider, jobId) => opened.jobByProviderId(provider, jobId),
    deadLetters: () => opened.deadLetters(),
    readTranscript: (ref) => opened.readTranscript(ref),
    async close() {
      try {
        await opened.close();
      } finally {
        await pool.end();
      }
    },
  };
}
