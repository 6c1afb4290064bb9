import { z } from "zod";

/**
 * Rev.ai's Asynchronous Speech-to-Text API v1, as `revAIProvider` speaks it and the `revai`
 * dialect of the emulator serves it. Rev.ai omits null fields and adds fields over time, so
 * bodies are loose objects: only the fields hookscribe reads are checked.
 */

/** A job's status: `in_progress` until it is `transcribed` or `failed` (there is no queued state). */
const REVAI_JOB_STATUSES = ["in_progress", "transcribed", "failed"] as const;
export type RevAIJobStatus = (typeof REVAI_JOB_STATUSES)[number];

/** `Accept` value that asks `GET /jobs/{id}/transcript` for the JSON transcript. */
export const TRANSCRIPT_JSON = "application/vnd.rev.transcript.v1.0+json";

/** Content type of Rev.ai's error answers (RFC 7807). */
export const PROBLEM_JSON = "application/problem+json";

/** Longest `metadata` string Rev.ai keeps with a job. */
export const METADATA_MAX_CHARS = 512;

/** `source_config` and `notification_config`: a URL and, optionally, the `Authorization` header to use with it. */
const customerUrlSchema = z.object({
  url: z.string().url(),
  // Rev.ai supports no other header here.
  auth_headers: z.strictObject({ Authorization: z.string().min(1) }).optional(),
});

/**
 * `POST /speechtotext/v1/jobs` JSON body; the fields hookscribe does not set pass through
 * untouched. Rev.ai needs `source_config` (or the deprecated `media_url`).
 */
export const submitRequestSchema = z.looseObject({
  source_config: customerUrlSchema.optional(),
  notification_config: customerUrlSchema.optional(),
  /** Deprecated forms of `source_config.url` and `notification_config.url`. */
  media_url: z.string().url().optional(),
  callback_url: z.string().url().optional(),
  metadata: z.string().max(METADATA_MAX_CHARS).optional(),
  language: z.string().min(1).optional(),
});
export type SubmitRequestBody = z.infer<typeof submitRequestSchema>;

/** A job, as the submit, `GET /jobs/{id}` and the webhook carry it. */
export const jobSchema = z.looseObject({
  id: z.string().min(1),
  status: z.enum(REVAI_JOB_STATUSES),
  created_on: z.string().optional(),
  completed_on: z.string().optional(),
  metadata: z.string().optional(),
  language: z.string().optional(),
  duration_seconds: z.number().nonnegative().optional(),
  /** A short reason code, e.g. `download_failure`. */
  failure: z.string().optional(),
  /** The human-readable failure message. */
  failure_detail: z.string().optional(),
});
export type RevAIJob = z.infer<typeof jobSchema>;

/** The webhook body: the job's details, no transcript. */
export const webhookBodySchema = z.looseObject({ job: jobSchema });

/**
 * One element of a monologue: a word (`text`, timed in seconds), punctuation or a space
 * (`punct`, untimed) or an unintelligible stretch (`unknown`). Parsed into its `value` and, for a
 * word, its `timing`.
 */
const elementSchema = z
  .looseObject({
    type: z.string(),
    value: z.string(),
    ts: z.number().nonnegative().optional(),
    end_ts: z.number().nonnegative().optional(),
    /** The end's name in Rev.ai's older API description. */
    ts_end: z.number().nonnegative().optional(),
    confidence: z.number().min(0).max(1).nullable().optional(),
  })
  .transform((element, context) => {
    if (element.type !== "text") return { value: element.value };
    const end = element.end_ts ?? element.ts_end;
    if (element.ts === undefined || end === undefined) {
      context.addIssue({ code: "custom", message: "a text element needs ts and end_ts" });
      return z.NEVER;
    }
    const timing = { start: element.ts, end, ...(typeof element.confidence === "number" ? { confidence: element.confidence } : {}) };
    return { value: element.value, timing };
  });

/** `GET /jobs/{id}/transcript` with `Accept: application/vnd.rev.transcript.v1.0+json`. */
export const transcriptSchema = z.looseObject({
  monologues: z.array(
    z.looseObject({
      speaker: z.number().int(),
      elements: z.array(elementSchema),
    }),
  ),
});
export type RevAITranscript = z.output<typeof transcriptSchema>;
/** A transcript as Rev.ai sends it. */
export type RevAITranscriptBody = z.input<typeof transcriptSchema>;

/** An error answer; a `400` names the bad fields in `parameters`, a `409` the job's state. */
export const problemSchema = z.looseObject({
  type: z.string().optional(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  parameters: z.record(z.string(), z.array(z.string())).optional(),
  allowed_values: z.array(z.string()).optional(),
  current_value: z.string().optional(),
});
export type RevAIProblem = z.infer<typeof problemSchema>;

