import { jobStatusSchema } from "../domain/job-status.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { JobSummary } from "../job-summary.js";
import type { Transcriber } from "../transcriber.js";
import type { Transcript } from "../domain/transcript.js";
import { describeToolFailure, errorResult, textResult } from "./tool-results.js";

const GET_TRANSCRIPT_TOOL = "get_transcript";

const inputSchema = {
  jobId: z.string().min(1).describe("The job id transcribe_audio returned or named in its answer."),
};

const outputSchema = {
  jobId: z.string(),
  status: jobStatusSchema.describe("Where the job is; completed and error are final."),
  text: z.string().optional().describe("The transcript, once the job is completed and stored."),
  error: z.string().optional().describe("The provider's failure message, for status error."),
};

/**
 * `get_transcript`: answers from the store (`client.inspect`) and never waits or calls the
 * provider, so it is cheap to call again. A job that is not finished, or that failed at the
 * provider, is a normal answer carrying its status: the tool did what was asked. Only an id the
 * store does not know (or a store failure) is an `isError` result.
 */
export function registerGetTranscriptTool(server: McpServer, client: Transcriber): void {
  server.registerTool(
    GET_TRANSCRIPT_TOOL,
    {
      title: "Get a transcript by job id",
      description:
        "Look up a transcription job that transcribe_audio started, by its job id, without waiting: " +
        "returns the transcript text when the job is finished, otherwise its status. " +
        "Use it when transcribe_audio answered that a job was not finished yet.",
      inputSchema,
      outputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ jobId }) => {
      try {
        return describeJob(jobId, await client.inspect(jobId));
      } catch (error) {
        return errorResult(describeToolFailure(error, { jobId }));
      }
    },
  );
}

function describeJob(jobId: string, job: JobSummary & { transcript?: Transcript }): CallToolResult {
  const { status, transcript } = job;
  if (transcript) return textResult(transcript.text, { jobId, status, text: transcript.text });
  if (status === "error") {
    const reason = job.error ?? "no reason given";
    return textResult(`Job ${jobId} failed at the provider: ${reason}. Call transcribe_audio again if the cause may have been temporary.`, { jobId, status, error: reason });
  }
  const since = Math.max(0, Math.round((Date.now() - job.createdAt.getTime()) / 1000));
  // `completed` without a transcript: the webhook arrived, the worker is still storing the result.
  const doing = status === "completed" ? "finished; its transcript is being stored" : `${status} (submitted ${since} s ago)`;
  return textResult(`Job ${jobId} is ${doing}. Call get_transcript again in a little while.`, { jobId, status });
}
