import type { Transcript } from "../domain/transcript.js";

/** What the tool hands back to the model for a finished transcript. */
export function toolOutput(transcript: Transcript, output: "text" | "json"): string {
  if (output === "json") {
    const { jobId, text, language, durationSec, words } = transcript;
    // `raw` (the provider's own payload) stays out: it is large and meant for the application.
    return JSON.stringify({ jobId, text, language, durationSec, words });
  }
  if (transcript.text.trim() === "") return `No speech was recognised in the recording (job ${transcript.jobId}).`;
  return transcript.text;
}
