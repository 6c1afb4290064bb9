import type { Pool } from "pg";
import type { Transcript } from "../../domain/transcript.js";
import type { JobListing } from "../job-store.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "../records.js";
import { DEAD_LETTER_COLUMNS, DELIVERY_COLUMNS, JOB_COLUMNS, deadLetterFromRow, deliveryFromRow, jobFromRow, transcriptFromRow } from "./rows.js";
import { quotedSchema } from "./sql-identifier.js";

/** Where statements go: a pool, or one connection of it. */
export type Queryable = Pick<Pool, "query">;

/** hookscribe's tables in one schema, quoted for SQL. */
export interface StoreTables {
  jobs: string;
  deliveries: string;
  deadLetters: string;
  transcripts: string;
}

export function storeTables(schema: string): StoreTables {
  const s = quotedSchema(schema);
  return { jobs: `${s}.jobs`, deliveries: `${s}.deliveries`, deadLetters: `${s}.dead_letters`, transcripts: `${s}.transcripts` };
}

/**
 * The store's reads, each one statement that writes nothing, its rows validated as records: one
 * copy of their SQL for `PostgresJobStore` and for the read-only `PostgresStoreReader`. Errors are
 * left to the caller, which says what failed (and, for the store, whether it is still healthy).
 */
export class StoreReads {
  readonly tables: StoreTables;

  constructor(
    schema: string,
    private readonly location: string,
  ) {
    this.tables = storeTables(schema);
  }

  async job(db: Queryable, ref: string): Promise<JobRecord | undefined> {
    const { rows } = await db.query(`SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} WHERE ref = $1`, [ref]);
    return rows[0] && jobFromRow(rows[0], this.location);
  }

  async jobByProviderId(db: Queryable, provider: string, jobId: string): Promise<JobRecord | undefined> {
    const { rows } = await db.query(`SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} WHERE provider = $1 AND job_id = $2`, [provider, jobId]);
    return rows[0] && jobFromRow(rows[0], this.location);
  }

  async listJobs(db: Queryable, listing: JobListing): Promise<JobRecord[]> {
    const values: unknown[] = [];
    const conditions: string[] = [];
    if (listing.status !== undefined) {
      values.push(listing.status);
      conditions.push(`status = $${values.length}`);
    }
    if (listing.after !== undefined) {
      values.push(listing.after.createdAt, listing.after.ref);
      conditions.push(`(created_at, ref) < ($${values.length - 1}::bigint, $${values.length})`);
    }
    values.push(listing.limit);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
    const { rows } = await db.query(`SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} ${where} ORDER BY created_at DESC, ref DESC LIMIT $${values.length}`, values);
    return rows.map((row) => jobFromRow(row, this.location));
  }

  async pendingJobs(db: Queryable): Promise<JobRecord[]> {
    const { rows } = await db.query(
      `SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} WHERE status IN ('queued', 'processing') AND job_id IS NOT NULL ORDER BY created_at, ref`,
    );
    return rows.map((row) => jobFromRow(row, this.location));
  }

  async pendingDelivery(db: Queryable, ref: string): Promise<DeliveryRecord | undefined> {
    const { rows } = await db.query(`SELECT ${DELIVERY_COLUMNS} FROM ${this.tables.deliveries} WHERE ref = $1 ORDER BY received_at LIMIT 1`, [ref]);
    return rows[0] && deliveryFromRow(rows[0], this.location);
  }

  async deadLetter(db: Queryable, id: string): Promise<DeadLetterRecord | undefined> {
    const { rows } = await db.query(`SELECT ${DEAD_LETTER_COLUMNS} FROM ${this.tables.deadLetters} WHERE id = $1`, [id]);
    return rows[0] && deadLetterFromRow(rows[0], this.location);
  }

  async deadLetters(db: Queryable): Promise<DeadLetterRecord[]> {
    const { rows } = await db.query(`SELECT ${DEAD_LETTER_COLUMNS} FROM ${this.tables.deadLetters} ORDER BY failed_at, id`);
    return rows.map((row) => deadLetterFromRow(row, this.location));
  }

  async readTranscript(db: Queryable, ref: string): Promise<Transcript | undefined> {
    const { rows } = await db.query(`SELECT ref, body FROM ${this.tables.transcripts} WHERE ref = $1`, [ref]);
    return rows[0] && transcriptFromRow(rows[0], this.location);
  }
}
