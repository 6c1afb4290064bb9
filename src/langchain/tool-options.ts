import { z } from "zod";
import { parseOptions } from "../validation/parse-options.js";
import type { Same } from "../validation/type-equality.js";

/** Options of `createTranscribeTool(client, options)`. Every field is optional; an unknown key is an error. */
export interface TranscribeToolOptions {
  /**
   * What the tool returns to the model.
   * - `"text"`: the transcript text (a short note instead when no speech was recognised, so an
   *   empty result is not mistaken for a failure).
   * - `"json"`: a JSON string `{ jobId, text, language, durationSec, words: [{ text, start, end,
   *   confidence?, speaker? }] }`, times in seconds; `language` and `durationSec` only when the
   *   provider reports them.
   * @default "text"
   */
  output?: "text" | "json";
  /**
   * Deadline of one tool call in ms; `0` waits forever.
   * @default the client's `timeoutMs` (1 hour unless the `Transcriber` was given another)
   */
  timeoutMs?: number;
  /**
   * The tool name the model sees: 1 to 64 letters, digits, `_` or `-` (what the major chat model
   * APIs accept).
   * @default "transcribe_audio"
   */
  name?: string;
  /**
   * The description the model reads to decide when to call the tool.
   * @default one that says when to use it (an audio or video URL whose spoken words are needed),
   * that it waits for the provider (possibly minutes), when not to use it (text, local files
   * without a URL), and what it returns
   */
  description?: string;
}

const toolOptionsSchema = z.strictObject({
  output: z.enum(["text", "json"]).default("text"),
  timeoutMs: z.number().int().min(0).optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, _ or -")
    .default("transcribe_audio"),
  description: z.string().min(1).optional(),
});

// Fails to compile when the interface above and the schema disagree on a field.
true satisfies Same<z.input<typeof toolOptionsSchema>, TranscribeToolOptions>;

type ResolvedToolOptions = z.output<typeof toolOptionsSchema>;

/** Checks `options` and fills in the defaults; throws a `ConfigurationError` naming every bad option. */
export function resolveToolOptions(options: TranscribeToolOptions): ResolvedToolOptions {
  return parseOptions(toolOptionsSchema, options, "createTranscribeTool");
}
