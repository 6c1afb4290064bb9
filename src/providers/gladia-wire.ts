import { z } from "zod";

/**
 * Gladia's pre-recorded v2 API as hookscribe speaks it: the submit, the per-job callback and the
 * job's result. `gladiaProvider` and the `gladia` dialect of the emulator validate with these.
 * Objects are loose: Gladia adds fields over time, and only the ones read here must fit.
 */

/** The header carrying the API key on every request. */
export const GLADIA_KEY_HEADER = "x-gladia-key";

/** `POST /v2/pre-recorded`: the fields hookscribe sets; anything else passes through. */
export const submitRequestSchema = z.looseObject({
  audio_url: z.url(),
  callback: z.boolean().optional(),
  callback_config: z
    .looseObject({
      url: z.url(),
      method: z.enum(["POST", "PUT"]).optional(),
    })
    .optional(),
  language_config: z
    .looseObject({
      languages: z.array(z.string().min(1)).optional(),
      code_switching: z.boolean().optional(),
    })
    .optional(),
  custom_metadata: z.record(z.string(), z.unknown()).optional(),
});
export type GladiaSubmitBody = z.infer<typeof submitRequestSchema>;

/** `201` answer to a submit. */
export const submitResponseSchema = z.looseObject({
  id: z.string().min(1),
  result_url: z.string(),
});

/** Every error answer: `message` is the human text, `validation_errors` lists a `400`'s field problems. */
export const errorResponseSchema = z.looseObject({
  timestamp: z.string().optional(),
  path: z.string().optional(),
  request_id: z.string().optional(),
  statusCode: z.number().optional(),
  message: z.string(),
  validation_errors: z.array(z.string()).optional(),
});
export type GladiaErrorBody = z.infer<typeof errorResponseSchema>;

/** One word. Times in seconds; `word` usually starts with the space that separated it from the previous one. */
const wordSchema = z.looseObject({
  word: z.string(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  confidence: z.number().optional(),
});

/** One utterance: a speaker's run of words. `speaker` is present when diarization was on. */
const utteranceSchema = z.looseObject({
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  confidence: z.number().optional(),
  channel: z.number().int().nonnegative().optional(),
  speaker: z.number().int().nonnegative().optional(),
  language: z.string().optional(),
  text: z.string(),
  words: z.array(wordSchema),
});

/** A finished job's result: the callback's `payload`, and `result` of a `done` job. */
const transcriptionResultSchema = z.looseObject({
  metadata: z.looseObject({ audio_duration: z.number().nonnegative() }),
  transcription: z.looseObject({
    full_transcript: z.string(),
    languages: z.array(z.string()),
    utterances: z.array(utteranceSchema),
  }),
});
export type GladiaTranscriptionResult = z.infer<typeof transcriptionResultSchema>;
export type GladiaUtterance = z.infer<typeof utteranceSchema>;

/** Echoed back in the callback and the result; `null` in a result when the submit had none. */
const customMetadataSchema = z.record(z.string(), z.unknown()).nullable().optional();

/** The job states `GET /v2/pre-recorded/{id}` reports. */
const GLADIA_JOB_STATUSES = ["queued", "processing", "done", "error"] as const;
export type GladiaJobStatus = (typeof GLADIA_JOB_STATUSES)[number];

const jobFields = {
  id: z.string().min(1),
  custom_metadata: customMetadataSchema,
  /** An HTTP-like status code: the only failure detail a result carries. */
  error_code: z.number().int().nullable().optional(),
};

/** `GET /v2/pre-recorded/{id}`; a `done` job carries its `result`. */
export const jobResponseSchema = z.discriminatedUnion("status", [
  z.looseObject({ ...jobFields, status: z.literal("done"), result: transcriptionResultSchema }),
  z.looseObject({ ...jobFields, status: z.enum(["queued", "processing", "error"]) }),
]);
export type GladiaJobResponse = z.infer<typeof jobResponseSchema>;

/** The per-job callback, `POST`ed to `callback_config.url` once the job ends. */
export const callbackSchema = z.discriminatedUnion("event", [
  z.looseObject({
    id: z.string().min(1),
    event: z.literal("transcription.success"),
    payload: transcriptionResultSchema,
    custom_metadata: customMetadataSchema,
  }),
  z.looseObject({
    id: z.string().min(1),
    event: z.literal("transcription.error"),
    error: z.looseObject({ code: z.number().int(), message: z.string() }),
    custom_metadata: customMetadataSchema,
  }),
]);
export type GladiaCallback = z.infer<typeof callbackSchema>;
