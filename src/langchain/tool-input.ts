import { z } from "zod";

/**
 * The arguments a model passes to the transcribe tool. Only http(s) URLs pass: the provider
 * downloads the audio, so a local path or a `file:` URL could never work.
 */
export const transcribeToolInput = z.object({
  audioUrl: z
    .url({ protocol: /^https?$/, error: "audioUrl must be an absolute http(s) URL the speech-to-text provider can download" })
    .describe("Public http(s) URL of the audio or video recording to transcribe; the speech-to-text provider downloads it from there."),
  language: z
    .string()
    .min(1)
    .optional()
    .describe('Language spoken in the recording as a code like "en" or "de". Omit it to let the provider detect the language.'),
});

export type TranscribeToolInput = z.output<typeof transcribeToolInput>;
