import { stat } from "node:fs/promises";
import pg from "pg";
import type { Transcript } from "../src/domain/transcript.js";
import { applyChange, journalDir, readJournal } from "../src/store/journal.js";
import { StoreFileAdapter } from "../src/store/json-file-adapter.js";
import { DEAD_LETTER_COLUMNS, DELIVERY_COLUMNS, JOB_COLUMNS, deadLetterFromRow, deliveryFromRow, jobFromRow, transcriptFromRow } from "../src/store/postgres/rows.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord, StoreDocument } from "../src/store/records.js";
import { readTranscriptFile, transcriptDir } from "../src/store/transcript-files.js";
import { TranscriptLog } from "../src/store/transcript-log.js";
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

const ATTEMPTS = 5;

/**
 * The document with its journal replayed over it, as a restarted process would find it. The owner
 * may fold the journal into a new document meanwhile: a document replaced under us, or a segment
 * gone, means a mixed read, so read again.
 */
async function readFileStore(storePath: string): Promise<StoredState> {
  const adapter = new StoreFileAdapter(storePath, { fsync: false });
  for (let attempt = 1; ; attempt++) {
    const before = await fileIdentity(storePath);
    const document = await adapter.read();
    if (!document) throw new Error(`No store document at ${storePath}`);
    try {
      const { entries } = await readJournal(journalDir(storePath), document.journalSeq);
      if (before === (await fileIdentity(storePath))) return fileState(storePath, document, entries);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt === ATTEMPTS) throw error;
    }
    if (attempt === ATTEMPTS) throw new Error(`The store at ${storePath} kept changing while it was read`);
  }
}

function fileState(storePath: string, document: StoreDocument, entries: Awaited<ReturnType<typeof readJournal>>["entries"]): StoredState {
  for (const entry of entries) for (const change of entry.changes) applyChange(document, change);
  const head = entries.at(-1)?.seq ?? document.journalSeq;
  return {
    jobs: document.jobs,
    inbox: document.inbox,
    deadLetters: document.deadLetters,
    writeMark: String(head),
    transcript: async (ref) => {
      const location = document.jobs[ref]?.transcriptAt;
      return location ? new TranscriptLog(transcriptDir(storePath), { fsync: false }).read(ref, location) : readTranscriptFile(storePath, ref);
    },
  };
}

async function fileIdentity(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  return info ? `${info.ino}:${info.mtimeMs}` : "missing";
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
