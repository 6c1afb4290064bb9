import type { Command } from "commander";
import type { Logger } from "../../types.js";
import { type ProviderFlags, addProviderFlags, clientFrom } from "../provider-flags.js";
import { untilStopped } from "../signals.js";

/**
 * One JSON line per delivery on stdout (the receiver's "webhook acked/refused" entries); warnings
 * and errors as JSON lines on stderr. Entries never hold secrets, tokens or transcript text.
 */
function jsonLines(): Logger {
  const write = (stream: NodeJS.WriteStream, level: string, obj: object, msg?: string) =>
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...obj })}\n`);
  return {
    debug: (obj, msg) => {
      if (msg?.startsWith("webhook acked") || msg?.startsWith("webhook refused")) write(process.stdout, "info", obj, msg);
    },
    info: () => undefined,
    warn: (obj, msg) => write(process.stderr, "warn", obj, msg),
    error: (obj, msg) => write(process.stderr, "error", obj, msg),
  };
}

export function registerServe(program: Command): void {
  const command = program
    .command("serve")
    .description("run the webhook receiver alone, for jobs submitted earlier with the same store (e.g. after a timeout)");
  addProviderFlags(command)
    .addHelpText(
      "after",
      `
Example:
  $ hookscribe serve --port 8787 --public-url https://hooks.example.com --store .hookscribe/store.json
  {"time":"…","level":"info","msg":"webhook acked","status":200,"jobId":"job_…","provider":"generic","ms":2}`,
    )
    .action(async (flags: ProviderFlags) => {
      const client = clientFrom(flags, { logger: jsonLines() });
      await client.start();
      process.stderr.write(`hookscribe: receiver listening on ${client.receiverUrl} (Ctrl-C to stop)\n`);
      await untilStopped();
      await client.close();
    });
}
