import { z } from "zod";

/**
 * AssemblyAI's pre-recorded API (`/v2/transcript`), as `assemblyAIProvider` sends and reads it and
 * the `assemblyai` dialect of the emulator serves it. Times of words are in milliseconds,
 * `audio_duration` in seconds. Bodies carry many optional fields, so objects are loose: only what
 * hookscribe reads is checked.
 */

/** `POST /v2/transcript` request body: the fields hookscribe sets, and the one AssemblyAI requires. */
export const transcriptRequestSchema = z.looseObject({
  audio_url: z.url({ error: "must be provided as an http or https URL", protocol: /^https?$/ }),
  speech_models: z.array(z.string().min(1), { error: "must be provided: a list of speech models in priority order" }).min(1),
  language_code: z.string().min(1).nullish(),
  webhook_url: z.url({ protocol: /^https?$/ }).nullish(),
  webhook_auth_header_name: z.string().min(1).nullish(),
  webhook_auth_header_value: z.string().min(1).nullish(),
});
export type TranscriptRequestBody = z.input<typeof transcriptRequestSchema>;

const transcriptStatusSchema = z.enum(["queued", "processing", "completed", "error"]);

/** One word of a transcript. `start` and `end` in milliseconds; `speaker` is `"A"`, `"B"`, … with speaker labels on. */
export const transcriptWordSchema = z.looseObject({
  text: z.string(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  confidence: z.number().min(0).max(1).optional(),
  speaker: z.string().nullish(),
});

/**
 * A transcript: the answer to a submit and to `GET /v2/transcript/{id}`. `error` holds the failure
 * message when `status` is `"error"`.
 */
export const transcriptSchema = z.looseObject({
  id: z.string().min(1),
  status: transcriptStatusSchema,
  text: z.string().nullish(),
  words: z.array(transcriptWordSchema).nullish(),
  confidence: z.number().nullish(),
  language_code: z.string().nullish(),
  audio_duration: z.number().nonnegative().nullish(),
  error: z.string().nullish(),
});
export type TranscriptBody = z.output<typeof transcriptSchema>;

/**
 * A webhook body: a transcript reached `completed` or `error` (thin: no text, no error message),
 * or, with `redact_pii_audio`, the redacted audio is ready (no transcript id at all).
 */
export const webhookNotificationSchema = z.discriminatedUnion("status", [
  z.looseObject({ transcript_id: z.string().min(1), status: z.enum(["completed", "error"]) }),
  z.looseObject({ redacted_audio_url: z.string(), status: z.literal("redacted_audio_ready") }),
]);
export type WebhookNotification = z.input<typeof webhookNotificationSchema>;

/** Error answers: `{ "error": "Authentication error, API token missing/invalid" }`. */
export const errorResponseSchema = z.looseObject({ error: z.string() });
