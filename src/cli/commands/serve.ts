import type { Command } from "commander";
import { jsonLinesLogger } from "../json-lines-logger.js";
import { type ProviderFlags, addProviderFlags, clientFrom } from "../provider-flags.js";
import { untilStopped } from "../signals.js";

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
      const client = clientFrom(flags, { logger: jsonLinesLogger({ deliveries: process.stdout }) });
      await client.start();
      process.stderr.write(`hookscribe: receiver listening on ${client.receiverUrl} (Ctrl-C to stop)\n`);
      await untilStopped();
      await client.close();
    });
}
