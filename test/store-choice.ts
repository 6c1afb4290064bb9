import { createHash } from "node:crypto";
import type { TranscriberOptions } from "hookscribe";
import { postgresStore } from "hookscribe/postgres";
import pg from "pg";

/*
 * Which store the behaviour tests run on, and how a store path becomes a store. No vitest in here:
 * the child processes of the tests (test/fixtures/crashing-client.ts) build their store this way
 * too, so a child and its test share one.
 */

/**
 * The store the behaviour tests run on: the JSON file, or PostgreSQL when
 * HOOKSCRIBE_TEST_STORE=postgres (the `postgres` project of vitest.config.ts runs them so).
 */
export const TEST_STORE: "json" | "postgres" = process.env.HOOKSCRIBE_TEST_STORE === "postgres" ? "postgres" : "json";
export const TEST_DATABASE_URL = process.env.HOOKSCRIBE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** No PostgreSQL server to test against (never under CI: vitest.config.ts fails the run instead). */
export const POSTGRES_UNAVAILABLE = process.env.HOOKSCRIBE_TEST_POSTGRES === "unavailable";

/** Drops these schemas of the test database, with everything in them. */
export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** The schema a store path stands for on PostgreSQL, so a test's "same store" and "other store" keep their meaning. */
export function schemaFor(storePath: string): string {
  return `t_${createHash("sha256").update(storePath).digest("hex").slice(0, 16)}`;
}

/** Client options for the store at `storePath`: that file, or its own schema on PostgreSQL. */
export function storeOptions(storePath: string): Pick<TranscriberOptions, "storePath" | "store"> {
  if (TEST_STORE === "json") return { storePath };
  // A short lease and fast probes keep take-overs and recoveries within a test's time.
  return { store: postgresStore({ connectionString: TEST_DATABASE_URL, schema: schemaFor(storePath), leaseMs: 2000, probeIntervalMs: 50 }) };
}

/** How the store at `storePath` names itself in messages (`UnknownJobError`, `StoreError`): the path, or the database and schema. */
export function storeLocation(storePath: string): string {
  return TEST_STORE === "json" ? storePath : storeOptions(storePath).store!.location;
}
