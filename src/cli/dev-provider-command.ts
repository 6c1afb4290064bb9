import { type Command, Option } from "commander";
import { type DevProvider, startDevProvider } from "hookscribe/dev";
import { CLI_PROVIDERS, CLI_PROVIDER_NAMES, type CliProviderName } from "./cli-providers.js";
import { parseMs, parsePort } from "./provider-flags.js";
import { untilStopped } from "./signals.js";

interface DevProviderFlags {
  dialect: CliProviderName;
  host: string;
  port: number;
  apiKey?: string;
  webhookSecret?: string;
  delay: number;
  jitter: number;
  publicDir?: string;
  failFirstSubmits: number;
  duplicates: number;
  outOfOrder?: boolean;
  thin?: boolean;
  webhookBeforeSubmit?: boolean;
  errorResult?: boolean;
}

export function registerDevProvider(program: Command): void {
  program
    .command("dev-provider")
    .description("run the local provider emulator: the reference protocol or a real provider's wire format, with fault injection")
    .addOption(new Option("--dialect <name>", "whose wire format to speak").choices(CLI_PROVIDER_NAMES).default("generic"))
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 = any free port)", parsePort, 8788)
    .option("--api-key <key>", "API key to require (default: random)")
    .option("--webhook-secret <secret>", "secret the generic dialect signs webhooks with (default: random whsec_)")
    .option("--delay <ms>", "time a job takes", parseMs("--delay"), 1000)
    .option("--jitter <ms>", "spread job times by ± this much", parseMs("--jitter"), 0)
    .option("--public-dir <dir>", "serve this directory at /files/ (the default engine reads <name>.txt next to each audio file)")
    .option("--fail-first-submits <n>", "answer the first n submits 503", Number, 0)
    .option("--duplicates <n>", "send every webhook n extra times", Number, 0)
    .option("--out-of-order", "send the terminal webhook first, then a stale processing one")
    .option("--thin", "webhooks without the transcript (the SDK fetches it once)")
    .option("--webhook-before-submit", "deliver the webhook before answering the submit")
    .option("--error-result", "end every job with status error")
    .addHelpText(
      "after",
      `
The default engine does not recognise speech: it returns the text published next to the audio
(call.wav -> call.txt).

Example:
  $ hookscribe dev-provider --port 8788 --public-dir samples --duplicates 2
  $ hookscribe transcribe http://127.0.0.1:8788/files/hello.wav --base-url http://127.0.0.1:8788 --api-key … --webhook-secret …
  $ hookscribe dev-provider --dialect assemblyai --port 8789   # then: --provider assemblyai --base-url http://127.0.0.1:8789`,
    )
    .action(async (flags: DevProviderFlags) => {
      const dev = await startDevProvider({
        dialect: flags.dialect,
        host: flags.host,
        port: flags.port,
        apiKey: flags.apiKey,
        webhookSecret: flags.webhookSecret,
        processingDelayMs: flags.delay,
        processingJitterMs: flags.jitter,
        publicDir: flags.publicDir,
        faults: {
          failFirstSubmits: flags.failFirstSubmits,
          duplicateDeliveries: flags.duplicates,
          outOfOrder: flags.outOfOrder ?? false,
          thinPayloads: flags.thin ?? false,
          webhookBeforeSubmitResponse: flags.webhookBeforeSubmit ?? false,
          errorResult: flags.errorResult ?? false,
        },
      });
      process.stdout.write(`hookscribe dev-provider (${flags.dialect} dialect) listening on ${dev.url} (Ctrl-C to stop)\n\n${settingsFor(flags.dialect, dev)}`);
      await untilStopped();
      await dev.close();
    });
}

/** The flags and environment variables that point the `hookscribe` command at this emulator. */
function settingsFor(dialect: CliProviderName, dev: DevProvider): string {
  const generic = dialect === "generic";
  const flags = [`--provider ${dialect}`, `--base-url ${dev.url}`, `--api-key ${dev.apiKey}`, ...(generic ? [`--webhook-secret ${dev.webhookSecret}`] : [])];
  const exports = [
    `export HOOKSCRIBE_PROVIDER=${dialect}`,
    `export HOOKSCRIBE_BASE_URL=${dev.url}`,
    `export ${CLI_PROVIDERS[dialect].keyEnv}=${dev.apiKey}`,
    ...(generic ? [`export HOOKSCRIBE_WEBHOOK_SECRET=${dev.webhookSecret}`] : []),
  ];
  return ["flags for the hookscribe command:", `  ${flags.join(" ")}`, "", "or the environment:", ...exports.map((line) => `  ${line}`), ""].join("\n");
}
