import { z } from "zod";
import type { Same } from "../validation/type-equality.js";
import { type ProviderJobStatus, providerJobStatusSchema } from "./job-status.js";
import { type TranscriptResult, transcriptResultSchema } from "./transcript.js";

/** A provider's webhook or status answer, normalised. Validated before anything stores it. */
export interface ProviderEvent {
  /** The provider's job id. */
  jobId: string;
  status: ProviderJobStatus;
  /** Present when the payload carries the transcript; absent for a *thin* event. */
  result?: TranscriptResult;
  /** The provider's failure message when `status` is `"error"`. */
  error?: string;
  /** The provider's payload as received. */
  raw: unknown;
}

/** Validates an event read back from the store; the compile-time check keeps it equal to `ProviderEvent`. */
export const providerEventSchema = z.object({
  jobId: z.string(),
  status: providerJobStatusSchema,
  result: transcriptResultSchema.optional(),
  error: z.string().optional(),
  raw: z.unknown(),
});
true satisfies Same<z.input<typeof providerEventSchema>, ProviderEvent>;

/** An answer that ends the job: a result, or a failure. A thin `completed` is not one yet. */
export function isFinalAnswer(event: ProviderEvent): boolean {
  return (event.status === "completed" && event.result !== undefined) || event.status === "error";
}
