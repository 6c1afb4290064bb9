import { z } from "zod";
import { providerJobStatusSchema } from "../domain/job-status.js";

/**
 * The reference wire protocol (the README's "The reference protocol" section), spoken by
 * `genericProvider` and served by `startDevProvider`. One schema per message; both sides
 * validate with them.
 */

/** One word as the reference protocol sends it. Times in seconds. */
export const wireWordSchema = z.object({
  text: z.string(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  confidence: z.number().min(0).max(1).optional(),
  speaker: z.string().optional(),
});

/** `POST /v1/transcripts` request body. */
export const submitRequestSchema = z.object({
  audio_url: z.string().url(),
  webhook_url: z.string().url(),
  language: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type SubmitRequestBody = z.infer<typeof submitRequestSchema>;

/** `201` answer to a submit. */
export const submitResponseSchema = z.object({
  job_id: z.string().min(1),
  status: z.literal("queued"),
});

/** Error answers (`400/401/404/429/5xx`). */
export const errorResponseSchema = z.object({ error: z.string() });

/**
 * A webhook body, and also what `GET /v1/transcripts/{job_id}` answers. A *thin* body has no
 * `text`; the result is then fetched once.
 */
export const transcriptBodySchema = z.object({
  job_id: z.string().min(1),
  status: providerJobStatusSchema,
  text: z.string().optional(),
  words: z.array(wireWordSchema).optional(),
  language: z.string().optional(),
  duration: z.number().nonnegative().optional(),
  error: z.string().optional(),
});
export type TranscriptBody = z.infer<typeof transcriptBodySchema>;

/** Header carrying `hex(HMAC-SHA256(secret, rawBody))`. */
export const HMAC_SIGNATURE_HEADER = "x-webhook-signature";
