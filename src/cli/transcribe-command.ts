import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { ConfigurationError, TranscriptionTimeoutError } from "../errors/index.js";
import { CommandError, EXIT } from "./exit-codes.js";
import { Progress } from "./progress.js";
import { isLoopback } from "../shared/loopback.js";
import { type ProviderFlags, addProviderFlags, clientFrom, parseMs, providerFrom } from "./provider-flags.js";
import { onInterrupt } from "./signals.js";
import { FORMATS, type Format, formatTranscript } from "./transcript-format.js";

interface TranscribeFlags extends ProviderFlags {
  timeout?: number;
  language?: string;
  format: Format;
  out?: string;
}

export function registerTranscribe(program: Command): void {
  const command = program
    .command("transcribe")
    .description("submit audio, wait for the provider's webhook, print the transcript")
    .argument("<audio>", "an http(s) URL the provider can download, or a local file (lent to the provider by the receiver)");
  addProviderFlags(command)
    .option("--timeout <ms>", "stop waiting after this long; the job is kept (exit code 3)", parseMs("--timeout"))
    .option("--language <code>", "language of the audio, e.g. en")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("text"))
    .option("--out <file>", "write the transcript to this file instead of stdout")
    .addHelpText(
      "after",
      `
Exit codes: 0 done, 1 the provider reported a failure, 2 usage or configuration, 3 timeout, 130 Ctrl-C.

Example:
  $ hookscribe transcribe https://example.com/call.mp3 --base-url https://stt.example.com \\
      --api-key "$KEY" --webhook-secret "$SECRET" --public-url https://hooks.example.com --format srt > call.srt
  $ hookscribe transcribe ./call.wav   # lent to the provider under a one-time URL of the receiver

A local file reaches a remote provider only through --public-url, like the webhooks.`,
    )
    .action(transcribe);
}

async function transcribe(audio: string, flags: TranscribeFlags): Promise<void> {
  const isUrl = /^https?:\/\//i.test(audio);
  if (!isUrl && !existsSync(audio)) throw new ConfigurationError(`${audio} is neither an http(s) URL nor a file here`);
  const provider = providerFrom(flags);
  if (!isUrl && flags.publicUrl === undefined && !isLoopback(provider.baseUrl)) {
    throw new ConfigurationError(
      `${audio} is a local file: ${provider.name} downloads it from this machine's receiver, so it needs --public-url, the address that forwards to the receiver (a reverse proxy or a tunnel)`,
    );
  }
  const client = await clientFrom(flags, { timeoutMs: flags.timeout, provider });
  const progress = new Progress();
  const options = { language: flags.language, onStatus: progress.update.bind(progress) };
  const job = isUrl ? client.transcribe(audio, options) : client.transcribeFile(audio, options);
  let interrupted = false;
  const stopListening = onInterrupt(() => {
    interrupted = true;
    job.cancel();
  });
  progress.start();
  try {
    const transcript = await job;
    progress.stop();
    const output = formatTranscript(transcript, flags.format);
    if (flags.out) await writeFile(flags.out, output);
    else process.stdout.write(output);
  } catch (error) {
    progress.stop();
    if (interrupted) throw new CommandError(`interrupted${job.jobId ? `; job ${job.jobId} is kept: \`hookscribe job ${job.jobId}\` later` : ""}`, EXIT.interrupted);
    if (error instanceof TranscriptionTimeoutError && error.jobId) {
      throw new CommandError(`${error.message}\njob id: ${error.jobId} (\`hookscribe job ${error.jobId}\` once \`hookscribe serve\` received it)`, EXIT.timeout);
    }
    throw error;
  } finally {
    stopListening();
    // Flushes the store, also on Ctrl-C: the job stays retrievable.
    await client.close();
  }
}
