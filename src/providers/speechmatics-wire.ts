import { z } from "zod";

/**
 * Speechmatics' batch API (v2) on the wire: what `speechmaticsProvider` sends and reads, and what
 * the `speechmatics` dialect of the emulator validates and answers. Times are in seconds. Bodies
 * Speechmatics sends keep fields these schemas do not name.
 */

const jobIdSchema = z.string().min(1);

/** What a notification can carry, as `notification_config[].contents` names it. */
const notificationContentSchema = z.enum([
  "jobinfo",
  "transcript",
  "transcript.json-v2",
  "transcript.txt",
  "transcript.srt",
  "alignment",
  "alignment.word_start_and_end",
  "alignment.one_per_line",
  "data",
  "text",
]);
export type NotificationContent = z.infer<typeof notificationContentSchema>;

/** One `notification_config` entry: where the notification goes, what it carries, which headers it echoes. */
const notificationConfigSchema = z.looseObject({
  url: z.string().url(),
  contents: z.array(notificationContentSchema).optional(),
  method: z.enum(["post", "put"]).optional(),
  /** `"Name: value"` lines sent as headers with the notification. */
  auth_headers: z.array(z.string().regex(/^[\w-]+:/, 'must be "Name: value"')).optional(),
});

/** Customer data Speechmatics keeps with the job and returns as `job.tracking`. */
const trackingSchema = z.looseObject({
  title: z.string().optional(),
  reference: z.string().optional(),
  tags: z.array(z.string()).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** The `config` part of `POST /v2/jobs` (a JSON string in a `multipart/form-data` body). */
export const jobConfigSchema = z.looseObject({
  type: z.literal("transcription"),
  fetch_data: z.looseObject({ url: z.string().url(), auth_headers: z.array(z.string()).optional() }).optional(),
  /** `language` is required; `"auto"` asks Speechmatics to identify it. */
  transcription_config: z.looseObject({ language: z.string().min(1) }),
  notification_config: z.array(notificationConfigSchema).max(3).optional(),
  tracking: trackingSchema.optional(),
});
export type JobConfig = z.infer<typeof jobConfigSchema>;

/** `201` answer to a submit. */
export const createJobResponseSchema = z.looseObject({ id: jobIdSchema });

/** The `error` values of Speechmatics' error answers; its SDK refuses an answer with any other. */
export const ERROR_NAMES = [
  "Bad Request",
  "File Expired",
  "Forbidden",
  "Resource Locked",
  "Format Not Supported",
  "Internal Server Error",
  "Job error",
  "Job Expired",
  "Job In Progress",
  "Job is not of type alignment",
  "Job is not of type transcription",
  "Job not found",
  "Job rejected",
  "Job rejected due to invalid audio",
  "Job rejected due to invalid text",
  "Malformed request",
  "Missing callback",
  "Missing data_file",
  "Missing text_file",
  "No language selected",
  "Not Implemented",
  "Permission Denied",
  "Requested product not available",
  "Transcription not ready",
  "Log file not available",
  "Requested Early Access Release not available",
  "Unprocessable Entity",
] as const;
export type ErrorName = (typeof ERROR_NAMES)[number];

/** Error answers (`{code, error, detail?}`). Read leniently: a 403 is documented with an `error` outside the list. */
export const errorResponseSchema = z.looseObject({ code: z.number().int(), error: z.string(), detail: z.string().optional() });

const jobStatusSchema = z.enum(["running", "done", "rejected", "deleted", "expired"]);
export type JobStatus = z.infer<typeof jobStatusSchema>;

/**
 * `GET /v2/jobs/{id}`. `errors` collects the job's failures and, on a `done` job too, every failed
 * attempt to send its notifications.
 */
export const jobDetailsResponseSchema = z.looseObject({
  job: z.looseObject({
    id: jobIdSchema,
    status: jobStatusSchema,
    created_at: z.string().optional(),
    data_name: z.string().optional(),
    duration: z.number().nonnegative().optional(),
    errors: z.array(z.looseObject({ timestamp: z.string(), message: z.string() })).optional(),
  }),
});
export type JobDetailsResponse = z.infer<typeof jobDetailsResponseSchema>;

/** The query string Speechmatics appends to a notification's URL. These are not the job statuses. */
export const notificationQuerySchema = z.object({
  id: jobIdSchema,
  status: z.enum(["success", "error", "fetch_error", "trim_error"]),
});

/** The speaker label of a word Speechmatics could not attribute (every word, without diarization). */
export const UNKNOWN_SPEAKER = "UU";

const recognitionAlternativeSchema = z.looseObject({
  content: z.string(),
  confidence: z.number().min(0).max(1).optional(),
  language: z.string().optional(),
  /** `"S1"`, `"S2"`… with speaker diarization; {@link UNKNOWN_SPEAKER} without. */
  speaker: z.string().optional(),
});

/** One item of `results`: a `word`, a `punctuation` mark or an `entity` (several words written as one, e.g. "$10"). */
const recognitionResultSchema = z.looseObject({
  type: z.string(),
  start_time: z.number().nonnegative(),
  end_time: z.number().nonnegative(),
  /** Where a punctuation mark goes: `previous` (the default), `next`, `both` or `none`. */
  attaches_to: z.string().optional(),
  is_eos: z.boolean().optional(),
  alternatives: z.array(recognitionAlternativeSchema).optional(),
});
export type RecognitionResult = z.infer<typeof recognitionResultSchema>;

/** The `json-v2` transcript: `GET /v2/jobs/{id}/transcript?format=json-v2`, or a notification's body. */
export const transcriptSchema = z.looseObject({
  format: z.string().optional(),
  job: z.looseObject({
    id: jobIdSchema,
    created_at: z.string().optional(),
    data_name: z.string().optional(),
    /** Seconds, whole in Speechmatics' examples. */
    duration: z.number().nonnegative().optional(),
    tracking: trackingSchema.optional(),
  }),
  metadata: z
    .looseObject({
      created_at: z.string().optional(),
      type: z.string().optional(),
      /** As submitted: `language` is `"auto"` when Speechmatics identified the language. */
      transcription_config: z.looseObject({ language: z.string().optional() }).optional(),
    })
    .optional(),
  results: z.array(recognitionResultSchema),
});
export type Transcript = z.infer<typeof transcriptSchema>;
