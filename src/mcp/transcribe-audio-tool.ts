import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { TranscriptionJob } from "../job.js";
import type { Transcriber } from "../transcriber.js";
import { describeStatus, startProgress } from "./progress.js";
import { describeToolFailure, errorResult, textResult } from "./tool-results.js";

const TRANSCRIBE_AUDIO_TOOL = "transcribe_audio";

const inputSchema = {
  audioUrl: z
    .url({ protocol: /^https?$/, error: "audioUrl must be an absolute http(s) URL the provider can download, e.g. https://example.com/call.mp3" })
    .describe("Public http(s) URL of the audio or video file to transcribe (the provider downloads it)."),
  language: z
    .string()
    .min(1, { error: 'language must be a language code such as "en"; omit it to let the provider detect the language' })
    .optional()
    .describe('Language code of the speech, e.g. "en" or "de". Omit it to let the provider detect the language.'),
};

const outputSchema = {
  jobId: z.string().describe("The provider's job id; get_transcript accepts it."),
  text: z.string().describe("The transcript."),
  language: z.string().optional().describe("Language the provider reports."),
  durationSec: z.number().optional().describe("Length of the audio in seconds, when the provider reports it."),
};

/**
 * `transcribe_audio`: submits the audio, waits for the provider's verified webhook and answers
 * with the transcript. The text is the only content block, so a model (or a user copying it) gets
 * exactly the transcript; the job id and metadata are in `structuredContent`. Failures are
 * `isError` results whose one line says what to do, a timeout included: it names the job id to
 * pass to `get_transcript`, because the job keeps running at the provider.
 */
export function registerTranscribeAudioTool(server: McpServer, client: Transcriber, options: { timeoutMs: number; heartbeatMs: number }): void {
  server.registerTool(
    TRANSCRIBE_AUDIO_TOOL,
    {
      title: "Transcribe audio",
      description:
        "Transcribe the speech in an audio or video file at a public http(s) URL and return the text. " +
        "Use it when the user gives a link to a recording (call, meeting, podcast, voice note) and wants its words, a summary or quotes. " +
        "It waits until the transcript is ready, which can take a while for long files. " +
        "If it answers that the job is not finished yet, call get_transcript later with the job id it gives instead of submitting the same audio again.",
      inputSchema,
      outputSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async ({ audioUrl, language }, extra) => {
      // Assigned synchronously below; the heartbeat reads the status through it.
      let job: TranscriptionJob | undefined;
      const progress = startProgress(extra, { heartbeatMs: options.heartbeatMs, status: () => job?.status ?? "submitting" });
      try {
        job = client.transcribe(audioUrl, {
          language,
          // Cancellation by the client (or the server closing) stops the wait; the job stays in the store.
          signal: extra.signal,
          timeoutMs: options.timeoutMs,
          onStatus: (status) => {
            const when = status === "completed" || status === "error" ? `after ${progress.elapsedSec()} s` : `${progress.elapsedSec()} s elapsed`;
            progress.report(`${describeStatus(status)}, ${when}`);
          },
        });
        job.submitted.then((jobId) => progress.report(`submitted as job ${jobId}`), () => undefined);
        const transcript = await job;
        const text = transcript.text.trim() === "" ? "(The transcript is empty: the provider recognised no speech.)" : transcript.text;
        return textResult(text, { jobId: transcript.jobId, text: transcript.text, language: transcript.language, durationSec: transcript.durationSec });
      } catch (error) {
        return errorResult(describeToolFailure(error, { jobId: job?.jobId, timeoutMs: options.timeoutMs }));
      } finally {
        await progress.stop();
      }
    },
  );
}
