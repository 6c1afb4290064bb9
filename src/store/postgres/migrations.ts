import type { Pool } from "pg";
import { StoreError } from "../../errors/index.js";
import { advisoryLock } from "./advisory-locks.js";
import { quotedSchema } from "./sql-identifier.js";
import type { Queryable } from "./store-reads.js";
import { inTransaction } from "./transaction.js";

/**
 * The schema's history: step `n` (from 1) brings it from version `n - 1` to `n`, given the quoted
 * schema name. A released step is never edited; a change of the tables is a new step.
 *
 * Times are milliseconds since the epoch (`bigint`), as in the records; only `lease_until` is a
 * `timestamptz`, because leases are compared with the database's clock (`now()`), the one clock
 * every replica shares. Events and transcripts are `json`, not `jsonb`: they are only ever read
 * whole, `json` keeps a provider's payload exactly as received, and it accepts the `\u0000`
 * escapes that `jsonb` rejects. `ref` sorts bytewise (`COLLATE "C"`), like the JSON store.
 */
const MIGRATIONS: readonly ((schema: string) => string)[] = [
  (s) => `
    CREATE TABLE ${s}.jobs (
      ref text COLLATE "C" PRIMARY KEY,
      provider text NOT NULL,
      job_id text,
      status text NOT NULL,
      status_rank smallint NOT NULL,
      token_hash text NOT NULL,
      secret_hash text,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      finished_at bigint,
      processed boolean NOT NULL DEFAULT false,
      error text
    );
    CREATE UNIQUE INDEX jobs_by_provider_job_id ON ${s}.jobs (provider, job_id) WHERE job_id IS NOT NULL;
    CREATE INDEX jobs_newest_first ON ${s}.jobs (created_at DESC, ref DESC);
    CREATE INDEX jobs_pending ON ${s}.jobs (created_at, ref) WHERE status IN ('queued', 'processing') AND job_id IS NOT NULL;
    CREATE INDEX jobs_processed_by_finish ON ${s}.jobs (finished_at) WHERE processed;
    CREATE INDEX jobs_submitting_by_update ON ${s}.jobs (updated_at) WHERE status = 'submitting';

    -- Terminal events not processed yet; a row is deleted once processed.
    CREATE TABLE ${s}.deliveries (
      id text PRIMARY KEY,
      ref text COLLATE "C" NOT NULL REFERENCES ${s}.jobs (ref) ON DELETE CASCADE,
      job_id text NOT NULL,
      event json NOT NULL,
      fetched json,
      received_at bigint NOT NULL,
      -- The store instance processing it, until lease_until unless it renews its hold.
      holder uuid,
      lease_until timestamptz
    );
    CREATE INDEX deliveries_by_ref ON ${s}.deliveries (ref);
    CREATE INDEX deliveries_oldest_first ON ${s}.deliveries (received_at);

    CREATE TABLE ${s}.dead_letters (
      id text PRIMARY KEY,
      delivery_id text NOT NULL REFERENCES ${s}.deliveries (id) ON DELETE CASCADE,
      ref text COLLATE "C" NOT NULL,
      job_id text NOT NULL,
      error text NOT NULL,
      attempts integer NOT NULL,
      failed_at bigint NOT NULL
    );
    CREATE INDEX dead_letters_by_delivery ON ${s}.dead_letters (delivery_id);

    CREATE TABLE ${s}.transcripts (
      ref text COLLATE "C" PRIMARY KEY REFERENCES ${s}.jobs (ref) ON DELETE CASCADE,
      body json NOT NULL
    );
  `,
  // The statement that marked a job processed with its transcript: after a lost answer, the
  // instance that sent it finds out whether it committed.
  (s) => `ALTER TABLE ${s}.jobs ADD COLUMN completed_by uuid;`,
];

/** The version this code brings a schema to. */
export const LATEST_VERSION = MIGRATIONS.length;

/**
 * The version the schema is at, read without writing anything (a role allowed only to read and
 * write rows can run it): 0 when it holds no hookscribe store (no `schema_version` table, or no
 * schema at all).
 */
export async function appliedVersion(db: Queryable, schema: string): Promise<number> {
  const s = quotedSchema(schema);
  const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [`${s}.schema_version`]);
  if (!rows[0]!.present) return 0;
  const version = await db.query<{ version: number }>(`SELECT coalesce(max(version), 0) AS version FROM ${s}.schema_version`);
  return version.rows[0]!.version;
}

/** Refuses a schema newer than this code rather than misread or miswrite it. */
export function refuseNewerSchema(version: number, location: string): void {
  if (version > LATEST_VERSION) {
    throw new StoreError(location, `The schema is at version ${version}, newer than this hookscribe knows (${LATEST_VERSION}): upgrade hookscribe on every replica`);
  }
}

/**
 * Creates the schema or brings it to the latest version. A schema already up to date is only
 * read: no lock, no DDL, so a replica whose role may only read and write rows (USAGE on the
 * schema, DML on its tables) starts on a schema its owner migrated. Otherwise the missing steps
 * run in one transaction, under an advisory lock of the schema: replicas starting together queue
 * on it, the first one migrates, the others find the schema up to date once they hold it. A
 * schema newer than this code is refused rather than used.
 */
export async function migrate(pool: Pool, schema: string, location: string): Promise<void> {
  const applied = await appliedVersion(pool, schema);
  refuseNewerSchema(applied, location);
  if (applied === LATEST_VERSION) return;
  const s = quotedSchema(schema);
  await inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", advisoryLock(schema, "migrate"));
    // Looked up first: a role without CREATE on the database can use a schema made for it.
    const existing = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (existing.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    // Again under the lock: another replica may have migrated meanwhile.
    const current = await appliedVersion(client, schema);
    refuseNewerSchema(current, location);
    for (const [index, step] of MIGRATIONS.entries()) {
      if (index < current) continue;
      await client.query(step(s));
      await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [index + 1]);
    }
  });
}
