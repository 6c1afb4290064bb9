import { join } from "node:path";
import { Command } from "commander";
import { ConfigurationError, type JobSummary } from "hookscribe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerStoreCommands } from "../src/cli/store-commands.js";
import { FileJobStore } from "../src/store/file-job-store.js";
import type { JobRecord } from "../src/store/records.js";
import { type Harness, harness, rejection, tempDir } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.cleanup();
  h = undefined;
});

const JOBS = 250;
// Recent: the client prunes jobs that finished longer ago than its retention.
const BASE = Date.now() - 60_000;

/** A store of `JOBS` jobs, three created in each millisecond (ties the order must still break), every fifth failed. */
async function seededHarness(): Promise<Harness> {
  const dir = await tempDir();
  const store = new FileJobStore({ path: join(dir, "store.json") });
  await store.open();
  for (let index = 0; index < JOBS; index++) {
    const createdAt = BASE + Math.floor(index / 3);
    const job: JobRecord = {
      ref: `ref${String(index).padStart(4, "0")}`,
      provider: "generic",
      jobId: `job_${index}`,
      status: index % 5 === 0 ? "error" : "completed",
      tokenHash: "0".repeat(64),
      createdAt,
      updatedAt: createdAt,
      finishedAt: createdAt,
      processed: true,
    };
    await store.createJob(job);
  }
  await store.close();
  return harness({ dir });
}

/** Job indexes, newest first as listed: later milliseconds first, and within one the later ref. */
function expectedOrder(keep: (index: number) => boolean = () => true): string[] {
  return Array.from({ length: JOBS }, (_, index) => index)
    .filter(keep)
    .reverse()
    .map((index) => `job_${index}`);
}

describe("client.jobs() pages", () => {
  it("lists 100 by default with a cursor, and the pages together list every job once, in order", async () => {
    h = await seededHarness();
    const first = await h.client.jobs();
    expect(first).toHaveLength(100);
    expect(first.next).toEqual(expect.any(String));

    const listed: JobSummary[] = [...first];
    let next = first.next;
    while (next !== undefined) {
      const page = await h.client.jobs({ before: next, limit: 70 });
      listed.push(...page);
      next = page.next;
    }
    expect(listed.map((job) => job.jobId)).toEqual(expectedOrder());
  });

  it("a status and a limit: the page after holds the rest, and the last page has no cursor", async () => {
    h = await seededHarness();
    const failed = (index: number) => index % 5 === 0;
    const first = await h.client.jobs({ status: "error", limit: 30 });
    expect(first.map((job) => job.jobId)).toEqual(expectedOrder(failed).slice(0, 30));
    const rest = await h.client.jobs({ status: "error", limit: 30, before: first.next });
    expect(rest.map((job) => job.jobId)).toEqual(expectedOrder(failed).slice(30));
    expect(rest.next).toBeUndefined();
  });

  it("a bad limit or a cursor that is not one is a ConfigurationError", async () => {
    h = await harness();
    expect(await rejection(h.client.jobs({ limit: 0 }))).toBeInstanceOf(ConfigurationError);
    expect(await rejection(h.client.jobs({ limit: 1001 }))).toBeInstanceOf(ConfigurationError);
    const error = await rejection(h.client.jobs({ before: "job_12" }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/before.*cursor/);
  });
});

describe("hookscribe jobs", () => {
  /** Runs the `jobs` command in this process; what it printed. */
  async function jobsCommand(storePath: string, ...args: string[]): Promise<{ lines: string[]; stderr: string }> {
    let stdout = "";
    let stderr = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((stderr += String(chunk)), true));
    const program = new Command().exitOverride();
    registerStoreCommands(program);
    try {
      await program.parseAsync(["jobs", "--store", storePath, ...args], { from: "user" });
    } finally {
      vi.restoreAllMocks();
    }
    return { lines: stdout.split("\n").filter(Boolean), stderr };
  }

  it("--limit lists a page and prints the cursor of the next; --before continues there", async () => {
    h = await seededHarness();
    await h.client.close();
    const first = await jobsCommand(h.storePath, "--limit", "2");
    expect(first.lines.map((line) => line.split("\t")[0])).toEqual(expectedOrder().slice(0, 2));
    const cursor = /--before (\S+)/.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const second = await jobsCommand(h.storePath, "--limit", "2", "--before", cursor!);
    expect(second.lines.map((line) => line.split("\t")[0])).toEqual(expectedOrder().slice(2, 4));
  });

  it("without --limit lists every job, page by page", async () => {
    h = await seededHarness();
    await h.client.close();
    const all = await jobsCommand(h.storePath, "--json");
    expect(all.lines.map((line) => JSON.parse(line).jobId)).toEqual(expectedOrder());
    expect(all.stderr).toBe("");
  });
});
