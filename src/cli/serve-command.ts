import type { Command } from "commander";
import { jsonLinesLogger, writeJsonLine } from "./json-lines-logger.js";
import { type ProviderFlags, addProviderFlags, clientFrom } from "./provider-flags.js";
import { untilStopped } from "./signals.js";

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
  {"time":"…","statusCode":200,"outcome":"accepted","jobId":"job_…","provider":"generic","durationMs":2}

  One replica of several behind a load balancer, sharing jobs through PostgreSQL:
  $ DATABASE_URL=postgres://hookscribe@db.internal:5432/app hookscribe serve --host 0.0.0.0 --port 8787 --public-url https://hooks.example.com`,
    )
    .action(async (flags: ProviderFlags) => {
      const client = await clientFrom(flags, { logger: jsonLinesLogger() });
      client.on("delivery", (info) => writeJsonLine(process.stdout, info));
      await client.start();
      process.stderr.write(`hookscribe: receiver listening on ${client.receiverUrl} (Ctrl-C to stop)\n`);
      await untilStopped();
      await client.close();
    });
}
