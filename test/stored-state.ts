import pg from "pg";
import type { Transcript } from "../src/domain/transcript.js";
import { DEAD_LETTER_COLUMNS, DELIVERY_COLUMNS, JOB_COLUMNS, deadLetterFromRow, deliveryFromRow, jobFromRow, transcriptFromRow } from "../src/store/postgres/rows.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "../src/store/records.js";
import { readStoreDocument } from "../src/store/store-snapshot.js";
import { readStoredTranscript } from "../src/store/transcript-files.js";
import { TEST_DATABASE_URL, TEST_STORE, schemaFor } from "./store-choice.js";

/**
 * What a store holds, read straight from where it keeps it (not through a client), so a test can
 * assert what is durable whichever store it runs on.
 */
export interface StoredState {
  /** Jobs by `ref`. */
  jobs: Record<string, JobRecord>;
  /** Deliveries not processed yet (dead-lettered ones included), by id. */
  inbox: Record<string, DeliveryRecord>;
  deadLetters: Record<string, DeadLetterRecord>;
  /**
   * Changes with every write that reached the store, even one that rewrote the same values: the
   * highest journal sequence number for the JSON file; the row versions (`xmin`) of every row for
   * PostgreSQL (a delivery's lease renewal is a write too).
   */
  writeMark: string;
  /** The stored transcript of a job, read when asked. */
  transcript(ref: string): Promise<Transcript | undefined>;
}

/** What the store at `storePath` (the file, or its schema on PostgreSQL) holds now. */
export function readStoredState(storePath: string): Promise<StoredState> {
  return TEST_STORE === "json" ? readFileStore(storePath) : readPostgresStore(schemaFor(storePath));
}

/** The document with its journal folded in, as a restarted process would find it. */
async function readFileStore(storePath: string): Promise<StoredState> {
  const document = await readStoreDocument(storePath);
  return {
    jobs: document.jobs,
    inbox: document.inbox,
    deadLetters: document.deadLetters,
    writeMark: String(document.journalSeq),
    transcript: (ref) => readStoredTranscript(storePath, ref, document.jobs[ref]?.transcriptAt),
  };
}


/** The schema's tables, all read in one snapshot, every row through the store's own converters. */
async function readPostgresStore(schema: string): Promise<StoredState> {
  const location = `test reader (schema ${schema})`;
  const s = `"${schema}"`;
  const state = await withClient(async (client) => {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      const jobs = await client.query(`SELECT ${JOB_COLUMNS}, xmin::text AS version FROM ${s}.jobs`);
      const deliveries = await client.query(`SELECT ${DELIVERY_COLUMNS}, xmin::text AS version FROM ${s}.deliveries`);
      const deadLetters = await client.query(`SELECT ${DEAD_LETTER_COLUMNS}, xmin::text AS version FROM ${s}.dead_letters`);
      const transcripts = await client.query(`SELECT ref, xmin::text AS version FROM ${s}.transcripts`);
      const versions = [
        ...jobs.rows.map((row) => `jobs/${row.ref}@${row.version}`),
        ...deliveries.rows.map((row) => `deliveries/${row.id}@${row.version}`),
        ...deadLetters.rows.map((row) => `dead_letters/${row.id}@${row.version}`),
        ...transcripts.rows.map((row) => `transcripts/${row.ref}@${row.version}`),
      ].sort();
      return {
        jobs: Object.fromEntries(jobs.rows.map((row) => [row.ref as string, jobFromRow(row, location)])),
        inbox: Object.fromEntries(deliveries.rows.map((row) => [row.id as string, deliveryFromRow(row, location)])),
        deadLetters: Object.fromEntries(deadLetters.rows.map((row) => [row.id as string, deadLetterFromRow(row, location)])),
        writeMark: versions.join(","),
      };
    } finally {
      await client.query("ROLLBACK");
    }
  });
  return {
    ...state,
    transcript: (ref) =>
      withClient(async (client) => {
        const { rows } = await client.query(`SELECT ref, body FROM ${s}.transcripts WHERE ref = $1`, [ref]);
        return rows[0] && transcriptFromRow(rows[0], location);
      }),
  };
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
