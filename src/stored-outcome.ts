import type { Transcript } from "./domain/transcript.js";
import { StoreError, TranscriptionError } from "./errors/index.js";
import type { JobStore } from "./store/job-store.js";
import type { JobRecord } from "./store/records.js";

/** The outcome of a processed job, from the store: its transcript, or its failure as a `TranscriptionError`. */
export async function storedOutcome(store: JobStore, job: JobRecord, jobId: string): Promise<Transcript> {
  if (job.status === "error") throw new TranscriptionError(jobId, job.error);
  const transcript = await store.readTranscript(job.ref);
  if (!transcript) throw new StoreError(store.location, `Job ${jobId} is marked done but its transcript is missing`);
  return transcript;
}
