import type { z } from "zod";
import { StoreError } from "../../errors/index.js";
import { type Transcript, transcriptSchema } from "../../domain/transcript.js";
import {
  type DeadLetterRecord,
  type DeliveryRecord,
  type JobRecord,
  deadLetterRecordSchema,
  deliveryRecordSchema,
  jobRecordSchema,
} from "../records.js";

/**
 * Rows as records. A row crosses a process boundary (another replica, another version, a
 * person with psql), so every one is validated; one that does not fit is a `StoreError` that
 * names the table, the row and the fields at fault, never their content.
 */

type Row = Record<string, unknown>;

export const JOB_COLUMNS = "ref, provider, job_id, status, token_hash, secret_hash, created_at, updated_at, finished_at, processed, error";
export const DELIVERY_COLUMNS = "id, ref, job_id, event, fetched, received_at";
export const DEAD_LETTER_COLUMNS = "id, delivery_id, ref, job_id, error, attempts, failed_at";

export function jobFromRow(row: Row, location: string): JobRecord {
  const record = {
    ref: row.ref,
    provider: row.provider,
    jobId: row.job_id,
    status: row.status,
    tokenHash: row.token_hash,
    secretHash: row.secret_hash,
    createdAt: millis(row.created_at),
    updatedAt: millis(row.updated_at),
    finishedAt: millis(row.finished_at),
    processed: row.processed,
    error: row.error,
  };
  return validated(jobRecordSchema, withoutNulls(record), location, `jobs row ${String(row.ref)}`);
}

export function deliveryFromRow(row: Row, location: string): DeliveryRecord {
  const record = { id: row.id, ref: row.ref, jobId: row.job_id, event: row.event, fetched: row.fetched, receivedAt: millis(row.received_at) };
  return validated(deliveryRecordSchema, withoutNulls(record), location, `deliveries row ${String(row.id)}`);
}

export function deadLetterFromRow(row: Row, location: string): DeadLetterRecord {
  const record = {
    id: row.id,
    deliveryId: row.delivery_id,
    ref: row.ref,
    jobId: row.job_id,
    error: row.error,
    attempts: row.attempts,
    failedAt: millis(row.failed_at),
  };
  return validated(deadLetterRecordSchema, withoutNulls(record), location, `dead_letters row ${String(row.id)}`);
}

export function transcriptFromRow(row: Row, location: string): Transcript {
  return validated(transcriptSchema, row.body, location, `transcripts row ${String(row.ref)}`);
}

/** node-postgres reads a `bigint` as a string (it may not fit a number; times in ms do). */
function millis(value: unknown): unknown {
  return typeof value === "string" ? Number(value) : value;
}

function validated<S extends z.ZodType>(schema: S, record: unknown, location: string, row: string): z.output<S> {
  const parsed = schema.safeParse(record);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(the whole value)"))];
  throw new StoreError(location, `The ${row} is not valid (changed outside hookscribe?): check ${fields.join(", ")}`);
}

/** A column that is SQL `NULL` is an absent field, not a `null` one. */
function withoutNulls(record: Row): Row {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null));
}
