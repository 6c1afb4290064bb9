import { type Command, Option } from "commander";
import { ConfigurationError, UnknownJobError } from "../errors/index.js";
import { pageOfJobs } from "../job-summary.js";
import type { StoreReader } from "../store/job-store.js";
import { readStoreSnapshot } from "../store/store-snapshot.js";
import { JOB_STATUSES, type JobStatus } from "../domain/job-status.js";
import { CommandError, EXIT } from "./exit-codes.js";
import { loadPostgres } from "./postgres-loader.js";
import { type ProviderFlags, type StoreFlags, addProviderFlags, addStoreFlag, clientFrom } from "./provider-flags.js";
import { FORMATS, type Format, formatTranscript } from "./transcript-format.js";

/** Jobs listed per page: the largest page `pageOfJobs` takes. */
const PAGE = 1000;

/**
 * Read commands look at a snapshot of the files, so they work while `serve` or an app holds the
 * store, or at the PostgreSQL store replicas share (`--database-url` or `DATABASE_URL`).
 */
export function registerStoreCommands(program: Command): void {
  addStoreFlag(
    program
      .command("jobs")
      .description("list the jobs in the store, newest first")
      .addOption(new Option("--status <status>", "only jobs with this status").choices(JOB_STATUSES))
      .option("--limit <count>", "list at most this many (default: all of them)", parseLimit)
      .option("--before <cursor>", "start after this place in the list (printed when --limit cut it)")
      .option("--json", "one JSON object per line"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  $ hookscribe jobs --status completed --store .hookscribe/store.json\n  $ hookscribe jobs --limit 50 --before <cursor printed when the previous page was cut>\n  $ DATABASE_URL=postgres://hookscribe@db.internal:5432/app hookscribe jobs --status error",
    )
    .action((flags: StoreFlags & { status?: JobStatus; limit?: number; before?: string; json?: boolean }) =>
      withStoreReader(flags, async (snapshot) => {
        // Page by page, so a large store is listed without building (and sorting) the whole list at once.
        let left = flags.limit ?? Number.POSITIVE_INFINITY;
        let before = flags.before;
        while (left > 0) {
          const page = await pageOfJobs(snapshot, { status: flags.status, before, limit: Math.min(left, PAGE) });
          for (const job of page) {
            process.stdout.write(
              flags.json
                ? `${JSON.stringify(job)}\n`
                : `${job.jobId ?? "(not accepted yet)"}\t${job.status}\t${job.createdAt.toISOString()}\t${job.finishedAt?.toISOString() ?? "-"}\n`,
            );
          }
          left -= page.length;
          before = page.next;
          if (before === undefined) return;
        }
        process.stderr.write(`hookscribe: more jobs; list them with --before ${before}\n`);
      }),
    );

  addStoreFlag(
    program
      .command("job")
      .description("print a stored transcript")
      .argument("<job-id>", "the provider's job id")
      .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("text"))
      .option("--provider <name>", "provider the job was submitted to", "generic"),
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 printed, 1 the job failed, 2 unknown job, 3 not finished yet.\n\nExample:\n  $ hookscribe job job_3f2a… --format vtt > call.vtt\n  $ DATABASE_URL=postgres://hookscribe@db.internal:5432/app hookscribe job job_3f2a…",
    )
    .action((jobId: string, flags: StoreFlags & { format: Format; provider: string }) =>
      withStoreReader(flags, async (snapshot) => {
        const job = await snapshot.jobByProviderId(flags.provider, jobId);
        if (!job) throw new UnknownJobError(jobId, snapshot.location);
        if (job.status === "error") throw new CommandError(`job ${jobId} failed at the provider: ${job.error ?? "no reason given"}`, EXIT.failed);
        const transcript = job.processed ? await snapshot.readTranscript(job.ref) : undefined;
        if (!transcript) throw new CommandError(`job ${jobId} is ${job.status}, no transcript yet (is \`hookscribe serve\` running for it?)`, EXIT.timeout);
        process.stdout.write(formatTranscript(transcript, flags.format));
      }),
    );

  const dlq = program.command("dlq").description("dead letters: events whose processing kept failing");
  addStoreFlag(dlq.command("list").description("list dead letters").option("--json", "one JSON object per line"))
    .addHelpText("after", "\nExample:\n  $ hookscribe dlq list\n  $ DATABASE_URL=postgres://hookscribe@db.internal:5432/app hookscribe dlq list --json")
    .action((flags: StoreFlags & { json?: boolean }) =>
      withStoreReader(flags, async (snapshot) => {
        for (const letter of await snapshot.deadLetters()) {
          const { id, jobId, attempts, error } = letter;
          const failedAt = new Date(letter.failedAt).toISOString();
          process.stdout.write(flags.json ? `${JSON.stringify({ id, jobId, attempts, failedAt, error })}\n` : `${id}\t${jobId}\t${attempts} attempts\t${failedAt}\t${error}\n`);
        }
      }),
    );
  addProviderFlags(dlq.command("replay").description("process a dead letter again").argument("<id>", "dead letter id (from `dlq list`)"))
    .addHelpText("after", "\nExample:\n  $ hookscribe dlq replay 5b0c… --base-url https://stt.example.com --api-key \"$KEY\" --webhook-secret \"$SECRET\"\n  $ DATABASE_URL=postgres://hookscribe@db.internal:5432/app hookscribe dlq replay 5b0c… --base-url https://stt.example.com")
    .action(async (id: string, flags: ProviderFlags) => {
      // Replaying fetches from the provider but receives nothing: any free port does.
      const client = await clientFrom(flags, { port: 0 });
      try {
        await client.replay(id);
        process.stderr.write(`hookscribe: dead letter ${id} processed\n`);
      } finally {
        await client.close();
      }
    });
}

/**
 * Runs `read` on the store the flags name: a snapshot of the JSON file, or the PostgreSQL store,
 * opened for it and closed afterwards (also when `read` throws).
 */
async function withStoreReader(flags: StoreFlags, read: (reader: StoreReader) => Promise<void>): Promise<void> {
  if (flags.databaseUrl === undefined) return read(await readStoreSnapshot(flags.store));
  const reader = await (await loadPostgres()).openReader(flags.databaseUrl, flags.schema);
  try {
    await read(reader);
  } catch (error) {
    // The command's own error is the one to report, not a failed close after it.
    await reader.close().catch(() => undefined);
    throw error;
  }
  await reader.close();
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigurationError(`--limit must be a whole number >= 1, got ${value}`);
  return limit;
}
