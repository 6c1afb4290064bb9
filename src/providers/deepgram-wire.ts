import { z } from "zod";

/**
 * Deepgram's pre-recorded API (`POST /v1/listen`) as hookscribe and the `deepgram` dialect of the
 * emulator speak it. A callback body is the same `ListenV1Response` a synchronous call answers:
 * Deepgram sends many optional fields, so objects are loose (unknown fields kept for `raw`) and only
 * what the adapter reads is checked. Times are in seconds.
 */

/** `extra` key hookscribe sends the per-job secret under, as Deepgram recommends; echoed at `metadata.extra.callback_secret`. */
export const CALLBACK_SECRET_KEY = "callback_secret";

/**
 * `extra` key carrying the language the submit asked for: Deepgram reports only a *detected*
 * language, so the requested one comes back this way.
 */
export const REQUESTED_LANGUAGE_KEY = "hookscribe_language";

/** Legacy header carrying the API Key Identifier of the key that submitted the request. */
export const DG_TOKEN_HEADER = "dg-token";

/** `200` answer to a submit with a `callback`. */
export const acceptedResponseSchema = z.looseObject({ request_id: z.string().min(1) });

/** Error answers: a bare string, the legacy `{err_code, err_msg}` or the newer `{category, message}`. */
export const errorResponseSchema = z.union([
  z.string(),
  z.looseObject({
    err_code: z.string().optional(),
    err_msg: z.string().optional(),
    category: z.string().optional(),
    message: z.string().optional(),
    request_id: z.string().optional(),
  }),
]);

/** `metadata.extra`: the `extra=key:value` pairs of the submit, echoed as strings. */
const extraSchema = z.record(z.string(), z.string());

const metadataSchema = z.looseObject({
  request_id: z.string().min(1),
  duration: z.number().nonnegative().optional(),
  extra: extraSchema.optional(),
});

const wordSchema = z.looseObject({
  word: z.string(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  confidence: z.number().min(0).max(1).optional(),
  /** With `diarize`: 0, 1, … */
  speaker: z.number().int().nonnegative().optional(),
  /** With `punctuate` or `smart_format`: the word as it appears in the transcript. */
  punctuated_word: z.string().optional(),
});
export type DeepgramWord = z.infer<typeof wordSchema>;

const alternativeSchema = z.looseObject({
  transcript: z.string(),
  confidence: z.number().optional(),
  words: z.array(wordSchema).optional(),
});

const channelSchema = z.looseObject({
  alternatives: z.array(alternativeSchema),
  /** With `detect_language`. */
  detected_language: z.string().optional(),
});

/** A finished request: the callback body, and the answer of a call without `callback`. */
export const listenResponseSchema = z.looseObject({
  metadata: metadataSchema,
  results: z.looseObject({ channels: z.tuple([channelSchema], channelSchema) }),
});
export type ListenResponse = z.infer<typeof listenResponseSchema>;

/**
 * A failed request's callback. Deepgram documents that a callback request gets an answer even when
 * it fails, but not its shape: hookscribe takes the legacy error body, correlated on its
 * `request_id` or on `metadata.request_id` when it carries the response's `metadata` (which the
 * emulator sends, with the echoed secret).
 */
export const failureCallbackSchema = z
  .looseObject({
    metadata: metadataSchema.optional(),
    err_code: z.string().optional(),
    err_msg: z.string(),
    request_id: z.string().optional(),
  })
  .refine((body) => (body.metadata?.request_id ?? body.request_id) !== undefined, { message: "needs request_id or metadata.request_id", path: ["request_id"] });
export type FailureCallback = z.infer<typeof failureCallbackSchema>;

/** Any callback body is a JSON object; one with `results` is a result, one without a failure. */
export const callbackObjectSchema = z.looseObject({});

/** Just what authenticates a callback: the per-job secret echoed in `metadata.extra`. */
export const callbackSecretSchema = z.object({
  metadata: z.object({ extra: z.object({ [CALLBACK_SECRET_KEY]: z.string() }) }),
});
