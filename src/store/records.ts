import { z } from "zod";
import { jobStatusSchema } from "../domain/job-status.js";
import { providerEventSchema } from "../domain/provider-event.js";

/**
 * What the store keeps, as zod schemas: the store file crosses a process boundary (an earlier
 * process, a human editor), so it is validated on every open.
 */

/** Where the JSON store keeps one transcript: a line of a segment of its transcript log. */
export const transcriptLocationSchema = z.object({
  segment: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().positive(),
});
export type TranscriptLocation = z.infer<typeof transcriptLocationSchema>;

/** One job, keyed by its local `ref` (known before the provider's job id is). */
export const jobRecordSchema = z.object({
  ref: z.string(),
  provider: z.string(),
  /** The provider's job id, once the submit answered or a webhook told us. */
  jobId: z.string().optional(),
  status: jobStatusSchema,
  /** SHA-256 of the per-job webhook token; the token itself only ever lives in the webhook URL. */
  tokenHash: z.string(),
  /**
   * SHA-256 of the per-job secret the provider echoes back in its webhooks (a header or a body
   * field, by provider); absent for jobs stored before it existed.
   */
  secretHash: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** When the job reached a terminal status. */
  finishedAt: z.number().optional(),
  /** The terminal event was handled: transcript stored and announced, or failure reported. */
  processed: z.boolean(),
  /** The provider's failure message for a job in `error`. */
  error: z.string().optional(),
  /**
   * Where the JSON store keeps the transcript of this processed job; absent in other stores, and
   * for jobs whose transcript the JSON store kept in a file of its own (before the log existed).
   */
  transcriptAt: transcriptLocationSchema.optional(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** A terminal event, durable on receipt and waiting for (or done with) the worker. */
export const deliveryRecordSchema = z.object({
  id: z.string(),
  ref: z.string(),
  jobId: z.string(),
  event: providerEventSchema,
  receivedAt: z.number(),
  /**
   * A thin event's result once known (fetched by the worker, or brought by the status check at a
   * deadline or by a duplicate webhook), so it is never fetched twice. Only final answers are kept.
   */
  fetched: providerEventSchema.optional(),
});
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

export const deadLetterRecordSchema = z.object({
  id: z.string(),
  deliveryId: z.string(),
  ref: z.string(),
  jobId: z.string(),
  error: z.string(),
  attempts: z.number().int(),
  failedAt: z.number(),
});
export type DeadLetterRecord = z.infer<typeof deadLetterRecordSchema>;

const STORE_VERSION = 1;

/** The lowdb document. Transcripts live in their own files, so this stays small. */
export const storeDocumentSchema = z.object({
  version: z.literal(STORE_VERSION),
  /** Journal entries up to this sequence number are folded into this document. */
  journalSeq: z.number().int().nonnegative(),
  jobs: z.record(z.string(), jobRecordSchema),
  inbox: z.record(z.string(), deliveryRecordSchema),
  deadLetters: z.record(z.string(), deadLetterRecordSchema),
});
export type StoreDocument = z.infer<typeof storeDocumentSchema>;

export function emptyDocument(): StoreDocument {
  return { version: STORE_VERSION, journalSeq: 0, jobs: {}, inbox: {}, deadLetters: {} };
}
