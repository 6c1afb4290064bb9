import { z } from "zod";
import { describeIssues } from "../describe-issues.js";
import { ConfigurationError } from "../errors/index.js";

/** Options of `createTranscribeTool(client, options)`. Every field is optional. */
export interface TranscribeToolOptions {
  /**
   * What the tool returns to the model. Default `"text"`.
   * - `"text"`: the transcript text (a short note instead when no speech was recognised, so an
   *   empty result is not mistaken for a failure).
   * - `"json"`: a JSON string `{ jobId, text, language, durationSec, words: [{ text, start, end,
   *   confidence?, speaker? }] }`, times in seconds; `language` and `durationSec` only when the
   *   provider reports them.
   */
  output?: "text" | "json";
  /**
   * Deadline of one tool call in ms; `0` waits forever. Default: the client's `timeoutMs`
   * (1 hour unless the `Transcriber` was given another).
   */
  timeoutMs?: number;
  /** The tool name the model sees. Default `"transcribe_audio"`. */
  name?: string;
  /**
   * The description the model reads to decide when to call the tool. Default: when to use it
   * (an audio or video URL whose spoken words are needed), that it waits for the provider
   * (possibly minutes), when not to use it (text, local files without a URL), and what it returns.
   */
  description?: string;
}

export const DEFAULT_TOOL_NAME = "transcribe_audio";

const toolOptionsSchema = z.object({
  output: z.enum(["text", "json"]).default("text"),
  timeoutMs: z.number().int().min(0).optional(),
  // What the major chat model APIs accept as a tool name.
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "name must be 1 to 64 letters, digits, _ or -")
    .default(DEFAULT_TOOL_NAME),
  description: z.string().min(1).optional(),
});

export type ResolvedToolOptions = z.output<typeof toolOptionsSchema>;

/** Applies the defaults; a bad option throws a `ConfigurationError` naming it. */
export function resolveToolOptions(options: TranscribeToolOptions): ResolvedToolOptions {
  const parsed = toolOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigurationError(`Invalid transcribe tool options: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
