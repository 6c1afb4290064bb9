import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Transcriber } from "hookscribe";
import { postgresStore } from "hookscribe/postgres";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DevProvider, type DevProviderOptions, startDevProvider } from "../src/dev/dev-provider.js";
import { FAST_DEV, SAMPLE_TEXT, TEST_DATABASE_URL, describeOnPostgres, dropSchemas, fastProvider, freePort, until } from "./helpers.js";

/*
 * The built `hookscribe` binary (npm test builds it first), spawned as a user would run it:
 * stdout, stderr and the exit code are the contract.
 */
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let dev: DevProvider | undefined;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "hookscribe-cli-"));
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await dev?.close();
  dev = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function emulator(options: DevProviderOptions = {}): Promise<DevProvider> {
  dev = await startDevProvider({ ...FAST_DEV, ...options });
  return dev;
}

function providerArgs(d: DevProvider): string[] {
  return ["--base-url", d.url, "--api-key", d.apiKey, "--webhook-secret", d.webhookSecret, "--store", join(dir, "store.json")];
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe("hookscribe transcribe", () => {
  it("prints the transcript alone on stdout, progress on stderr, exit 0", async () => {
    const d = await emulator();
    const result = await run(["transcribe", "https://audio.example/a.wav", ...providerArgs(d), "--port", "0"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${SAMPLE_TEXT}\n`);
    expect(result.stderr).toMatch(/queued job_\w+/);
    expect(result.stderr).toMatch(/completed job_\w+/);
    expect(d.stats.submits).toBe(1);
  });

  it("takes the provider settings from the environment", async () => {
    const d = await emulator();
    const result = await run(["transcribe", "https://audio.example/env.wav", "--port", "0", "--store", join(dir, "store.json")], {
      HOOKSCRIBE_BASE_URL: d.url,
      HOOKSCRIBE_API_KEY: d.apiKey,
      HOOKSCRIBE_WEBHOOK_SECRET: d.webhookSecret,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${SAMPLE_TEXT}\n`);
  });

  it("formats json, srt and vtt, and writes --out instead of stdout", async () => {
    const d = await emulator();
    const json = await run(["transcribe", "https://audio.example/j.wav", ...providerArgs(d), "--port", "0", "--format", "json"]);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ text: SAMPLE_TEXT, status: "completed" });
    expect(parsed.words).toHaveLength(SAMPLE_TEXT.split(" ").length);
    expect(parsed.raw).toBeUndefined();

    const srt = await run(["transcribe", "https://audio.example/s.wav", ...providerArgs(d), "--port", "0", "--format", "srt"]);
    expect(srt.stdout).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\nthe quick brown fox/);
    const out = join(dir, "call.vtt");
    const vtt = await run(["transcribe", "https://audio.example/v.wav", ...providerArgs(d), "--port", "0", "--format", "vtt", "--out", out]);
    expect(vtt.code).toBe(0);
    expect(vtt.stdout).toBe("");
    expect(await readFile(out, "utf8")).toMatch(/^WEBVTT\n\n00:00:00\.000 --> /);
  });

  it.each(["assemblyai", "deepgram", "revai", "speechmatics", "gladia"] as const)(
    "--provider %s: the key from the provider's usual variable, against its dialect of the emulator",
    async (name) => {
      const d = await emulator({ dialect: name });
      const keyEnv = { assemblyai: "ASSEMBLYAI_API_KEY", deepgram: "DEEPGRAM_API_KEY", revai: "REVAI_ACCESS_TOKEN", speechmatics: "SPEECHMATICS_API_KEY", gladia: "GLADIA_API_KEY" }[name];
      const args = ["transcribe", `https://audio.example/${name}.wav`, "--provider", name, "--base-url", d.url, "--port", "0", "--store", join(dir, "store.json")];
      // Settings exported for the generic provider stay out of another provider's way.
      const result = await run(args, { [keyEnv]: d.apiKey, HOOKSCRIBE_WEBHOOK_SECRET: "whsec_of_another_setup", HOOKSCRIBE_BASE_URL: "http://127.0.0.1:9" });
      expect(result.stderr).not.toContain(d.apiKey);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${SAMPLE_TEXT}\n`);
      expect(d.stats.submits).toBe(1);

      const noKey = await run(args, { [keyEnv]: "" });
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain(`pass --api-key or set ${keyEnv}`);
    },
  );

  it("refuses a local file for a remote provider without --public-url, saying why", async () => {
    await writeFile(join(dir, "local.wav"), Buffer.alloc(10));
    const result = await run(["transcribe", "local.wav", "--provider", "assemblyai", "--api-key", "k", "--port", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/local\.wav is a local file: assemblyai downloads it from this machine's receiver, so it needs --public-url/);
  });

  it("lends a local file to the provider through the receiver", async () => {
    const d = await emulator({
      engine: async (audioUrl) => ({ text: `heard ${(await (await fetch(audioUrl)).arrayBuffer()).byteLength} bytes` }),
    });
    await writeFile(join(dir, "local.wav"), Buffer.alloc(1234));
    const result = await run(["transcribe", "local.wav", ...providerArgs(d), "--port", "0"]);
    expect(result.stdout).toBe("heard 1234 bytes\n");
    // The one-time URL is gone with the job.
    expect((await fetch(d.jobs()[0]!.audioUrl).catch(() => ({ status: 0 }))).status).not.toBe(200);
  });

  it("exits 1 when the provider reports a failure", async () => {
    const d = await emulator({ faults: { errorResult: true } });
    const result = await run(["transcribe", "https://audio.example/bad.wav", ...providerArgs(d), "--port", "0"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/hookscribe: Provider reported job job_\w+ as failed/);
  });

  it("exits 2 with a one-line hint on usage and configuration errors", async () => {
    const missing = await run(["transcribe", "https://audio.example/x.wav", "--port", "0"], { HOOKSCRIBE_BASE_URL: "" });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/missing --base-url.*dev-provider/);

    const unknown = await run(["transcribe", "--nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--nope'/);

    const noFile = await run(["transcribe", "nowhere.wav", "--base-url", "http://127.0.0.1:9", "--api-key", "k", "--webhook-secret", "s"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/neither an http\(s\) URL nor a file/);
  });

  it("exits 3 on timeout, prints the job id, and `serve` then `job` pick it up", async () => {
    const d = await emulator({ processingDelayMs: 600, retryDelaysMs: [100, 200, 400, 800] });
    const port = String(await freePort());
    const timedOut = await run(["transcribe", "https://audio.example/slow.wav", ...providerArgs(d), "--port", port, "--timeout", "250"]);
    expect(timedOut.code).toBe(3);
    const jobId = /job id: (job_\w+)/.exec(timedOut.stderr)?.[1];
    expect(jobId).toBeDefined();

    const pending = await run(["job", jobId!, "--store", join(dir, "store.json")]);
    expect(pending.code).toBe(3);

    const serve = spawn(process.execPath, [CLI, "serve", ...providerArgs(d), "--port", port], { cwd: dir });
    children.push(serve);
    let lines = "";
    serve.stdout.on("data", (chunk: Buffer) => (lines += chunk.toString()));
    await until(() => lines.includes(jobId!) && lines.includes('"statusCode":200'), 10_000);
    const delivery = JSON.parse(lines.split("\n").find((line) => line.includes(jobId!))!);
    expect(delivery).toMatchObject({ statusCode: 200, outcome: "accepted", jobId, provider: "generic" });
    expect(lines).not.toContain(SAMPLE_TEXT);

    await until(async () => (await run(["job", jobId!, "--store", join(dir, "store.json")])).code === 0, 10_000);
    const printed = await run(["job", jobId!, "--store", join(dir, "store.json")]);
    expect(printed.stdout).toBe(`${SAMPLE_TEXT}\n`);
    serve.kill("SIGTERM");
    await new Promise((resolve) => serve.once("exit", resolve));
    expect(existsSync(join(dir, "store.json.lock"))).toBe(false);
  });

  it("exits 130 on Ctrl-C with the store flushed and unlocked", async () => {
    const d = await emulator({ processingDelayMs: 60_000 });
    const child = spawn(process.execPath, [CLI, "transcribe", "https://audio.example/long.wav", ...providerArgs(d), "--port", "0"], { cwd: dir });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await until(() => /queued job_\w+/.test(stderr), 10_000);
    child.kill("SIGINT");
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted; job job_\w+ is kept/);
    expect(existsSync(join(dir, "store.json.lock"))).toBe(false);
    const listed = await run(["jobs", "--store", join(dir, "store.json")]);
    expect(listed.stdout).toMatch(/^job_\w+\t(queued|processing)\t/);
  });
});

describe("store commands", () => {
  it("jobs, job --format and dlq list read the store", async () => {
    const d = await emulator();
    await run(["transcribe", "https://audio.example/1.wav", ...providerArgs(d), "--port", "0"]);
    const jobs = await run(["jobs", "--store", join(dir, "store.json"), "--json"]);
    const [job] = jobs.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(job).toMatchObject({ status: "completed", provider: "generic" });
    const vtt = await run(["job", job.jobId, "--format", "vtt", "--store", join(dir, "store.json")]);
    expect(vtt.stdout).toMatch(/^WEBVTT/);
    expect((await run(["jobs", "--status", "error", "--store", join(dir, "store.json")])).stdout).toBe("");
    expect((await run(["dlq", "list", "--store", join(dir, "store.json")])).stdout).toBe("");
    const unknown = await run(["job", "job_nope", "--store", join(dir, "store.json")]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No job job_nope/);
    const noStore = await run(["jobs", "--store", join(dir, "elsewhere.json")]);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toMatch(/No store here yet/);
  });
});

describe("hookscribe dev-provider", () => {
  it("--dialect prints the flags that point the command at that dialect", async () => {
    const samples = fileURLToPath(new URL("../samples/", import.meta.url));
    const child = spawn(process.execPath, [CLI, "dev-provider", "--dialect", "gladia", "--port", "0", "--delay", "20", "--public-dir", samples], { cwd: dir });
    children.push(child);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    await until(() => stdout.includes("GLADIA_API_KEY="), 10_000);
    expect(stdout).toMatch(/gladia dialect\) listening on http:\/\/127\.0\.0\.1:\d+/);
    const flags = /^ {2}(--provider gladia --base-url \S+ --api-key \S+)$/m.exec(stdout)?.[1];
    expect(flags).toBeDefined();
    const baseUrl = /--base-url (\S+)/.exec(flags!)![1]!;
    const result = await run(["transcribe", `${baseUrl}/files/hello.wav`, ...flags!.split(" "), "--port", "0", "--store", join(dir, "store.json")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(await readFile(join(samples, "hello.txt"), "utf8"));
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
  });

  it("prints working genericProvider settings and serves them until stopped", async () => {
    const samples = fileURLToPath(new URL("../samples/", import.meta.url));
    const child = spawn(process.execPath, [CLI, "dev-provider", "--port", "0", "--delay", "20", "--public-dir", samples], { cwd: dir });
    children.push(child);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    await until(() => stdout.includes("HOOKSCRIBE_WEBHOOK_SECRET="), 10_000);
    const env = Object.fromEntries([...stdout.matchAll(/export (\w+)=(\S+)/g)].map((match) => [match[1]!, match[2]!]));
    expect(Object.keys(env)).toEqual(["HOOKSCRIBE_PROVIDER", "HOOKSCRIBE_BASE_URL", "HOOKSCRIBE_API_KEY", "HOOKSCRIBE_WEBHOOK_SECRET"]);
    // The default engine returns the text published next to the audio: samples/hello.txt.
    const result = await run(["transcribe", `${env.HOOKSCRIBE_BASE_URL}/files/hello.wav`, "--port", "0", "--store", join(dir, "store.json")], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(await readFile(join(samples, "hello.txt"), "utf8"));
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
  });
});

describe("hookscribe mcp", () => {
  it("serves transcribe_audio and get_transcript to an MCP client over stdio, and exits when stdin closes", async () => {
    const d = await emulator();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp", ...providerArgs(d), "--port", "0"],
      cwd: dir,
      stderr: "pipe",
    });
    const client = new Client({ name: "cli-test", version: "1.0.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(["get_transcript", "transcribe_audio"]);
    const result = await client.callTool({ name: "transcribe_audio", arguments: { audioUrl: "https://audio.example/mcp.wav" } });
    expect(result.isError).toBeFalsy();
    expect((result.content as { type: string; text: string }[])[0]!.text).toBe(SAMPLE_TEXT);
    const jobId = (result.structuredContent as { jobId: string }).jobId;
    const stored = await client.callTool({ name: "get_transcript", arguments: { jobId } });
    expect((stored.content as { text: string }[])[0]!.text).toContain(SAMPLE_TEXT);
    const pid = transport.pid!;
    await client.close();
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 5_000);
    expect(existsSync(join(dir, "store.json.lock"))).toBe(false);
  });
});

describe("--help", () => {
  it.each(["transcribe", "dev-provider", "serve", "jobs", "job", "dlq list", "dlq replay", "mcp"])("%s --help shows an example", async (command) => {
    const result = await run([...command.split(" "), "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Example:\n\s+\$ hookscribe /);
  });
});

/*
 * The PostgreSQL store from the command line, against the machine's real server, on a schema of
 * this block's own (dropped afterwards). Never skipped: no server is a failure.
 */
describeOnPostgres("store commands on PostgreSQL (--database-url, DATABASE_URL)", () => {
  const DATABASE_URL = TEST_DATABASE_URL;
  const SCHEMA = `hookscribe_cli_${randomBytes(6).toString("hex")}`;

  afterAll(() => dropSchemas([SCHEMA]));

  it("jobs, job, dlq list and dlq replay read and work the store a Transcriber wrote; transcribe writes to it", async () => {
    // Thin webhooks, so the worker fetches each result: failing fetches make a dead letter.
    const d = await emulator({ faults: { thinPayloads: true } });
    const base = fastProvider(d);
    let resultsDown = false;
    const client = new Transcriber({
      provider: {
        ...base,
        async fetchResult(jobId, options) {
          if (resultsDown) throw new Error("result endpoint down");
          return base.fetchResult!(jobId, options);
        },
      },
      receiver: { port: 0 },
      store: postgresStore({ connectionString: DATABASE_URL, schema: SCHEMA, probeIntervalMs: 20 }),
      retry: { attempts: 2, minDelayMs: 5, maxDelayMs: 10 },
    });
    let done: string;
    let dead: string;
    try {
      done = (await client.transcribe("https://audio.example/pg-done.wav")).jobId;
      resultsDown = true;
      dead = await client.transcribe("https://audio.example/pg-dead.wav").submitted;
      await until(async () => (await client.deadLetters()).length === 1, 10_000);
    } finally {
      await client.close();
    }

    const flag = ["--database-url", DATABASE_URL, "--schema", SCHEMA];
    const env = { DATABASE_URL };

    const jobs = await run(["jobs", ...flag]);
    expect(jobs.stderr).toBe("");
    expect(jobs.code).toBe(0);
    const rows = jobs.stdout.trim().split("\n").map((line) => line.split("\t"));
    // Newest first: job id, status, created, finished.
    expect(rows.map((row) => row.slice(0, 2))).toEqual([
      [dead, "completed"],
      [done, "completed"],
    ]);
    for (const row of rows) expect(row[3]).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const text = await run(["job", done, "--format", "text", "--schema", SCHEMA], env);
    expect(text).toMatchObject({ code: 0, stdout: `${SAMPLE_TEXT}\n` });
    const notYet = await run(["job", dead, "--schema", SCHEMA], env);
    expect(notYet.code).toBe(3);
    expect(notYet.stderr).toContain(`job ${dead} is completed, no transcript yet`);
    const unknown = await run(["job", "job_nope", ...flag]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`No job job_nope in the store postgres://`);

    const letters = await run(["dlq", "list", "--schema", SCHEMA], env);
    expect(letters.code).toBe(0);
    const [letter, ...more] = letters.stdout.trim().split("\n");
    expect(more).toEqual([]);
    const [letterId, letterJob, attempts, failedAt, error] = letter!.split("\t");
    expect({ letterJob, attempts, error }).toEqual({ letterJob: dead, attempts: "2 attempts", error: "result endpoint down" });
    expect(new Date(failedAt!).toISOString()).toBe(failedAt);
    const json = await run(["dlq", "list", "--json", ...flag]);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: letterId, jobId: dead, attempts: 2, error: "result endpoint down" });

    // The emulator's results are fine: a replay from the command line processes the letter.
    const replay = await run(["dlq", "replay", letterId!, "--base-url", d.url, "--api-key", d.apiKey, "--webhook-secret", d.webhookSecret, "--schema", SCHEMA], env);
    expect(replay.stderr).toContain(`dead letter ${letterId} processed`);
    expect(replay.code).toBe(0);
    expect((await run(["dlq", "list", ...flag])).stdout).toBe("");
    expect((await run(["job", dead, ...flag])).stdout).toBe(`${SAMPLE_TEXT}\n`);

    // `transcribe` (like `serve`) runs on the shared store too.
    const transcribed = await run(["transcribe", "https://audio.example/pg-cli.wav", "--base-url", d.url, "--api-key", d.apiKey, "--webhook-secret", d.webhookSecret, "--port", "0", "--schema", SCHEMA], env);
    expect(transcribed).toMatchObject({ code: 0, stdout: `${SAMPLE_TEXT}\n` });
    const cliJob = /completed (job_\w+)/.exec(transcribed.stderr)?.[1];
    expect(cliJob).toBeDefined();
    const listed = await run(["jobs", "--json", ...flag]);
    expect(listed.stdout.trim().split("\n").map((line) => JSON.parse(line).jobId)).toEqual([cliJob, dead, done]);
    // Nothing of the file store was touched.
    expect(existsSync(join(dir, ".hookscribe"))).toBe(false);
  });

  it("serve on the shared store resolves a job a Transcriber submitted elsewhere", async () => {
    const d = await emulator({ processingDelayMs: 300 });
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    // The submitting client's own receiver is not where the webhook goes: the CLI's `serve` is.
    const client = new Transcriber({
      provider: fastProvider(d),
      receiver: { port: 0, publicUrl },
      store: postgresStore({ connectionString: DATABASE_URL, schema: SCHEMA, probeIntervalMs: 20 }),
    });
    const serve = spawn(process.execPath, [CLI, "serve", "--base-url", d.url, "--api-key", d.apiKey, "--webhook-secret", d.webhookSecret, "--port", String(port), "--schema", SCHEMA], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL },
    });
    children.push(serve);
    let stderr = "";
    serve.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await until(() => stderr.includes("receiver listening"), 10_000);
      expect(stderr).toContain(`receiver listening on ${publicUrl}`);
      const transcript = await client.transcribe("https://audio.example/pg-serve.wav");
      expect(transcript.text).toBe(SAMPLE_TEXT);
    } finally {
      await client.close();
    }
    serve.kill("SIGTERM");
    expect(await new Promise((resolve) => serve.once("exit", resolve))).toBe(0);
  });

  it("reads as a role allowed only to SELECT: jobs and dlq list work, and write nothing", async () => {
    const schema = `${SCHEMA}_ro`;
    const role = `hookscribe_cli_ro_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const tables = ["schema_version", "jobs", "deliveries", "dead_letters", "transcripts"];
    const everything = async () => Promise.all(tables.map(async (table) => (await admin.query(`SELECT * FROM "${schema}".${table} ORDER BY 1`)).rows));
    try {
      // A job with a delivery, written by the store's owner.
      const store = postgresStore({ connectionString: DATABASE_URL, schema });
      await store.open();
      try {
        const now = Date.now();
        await store.createJob({ ref: "ref-ro", provider: "generic", jobId: "job_ro", status: "queued", tokenHash: "hash", createdAt: now, updatedAt: now, processed: false });
        await store.changeStatus("ref-ro", { jobId: "job_ro", status: "completed", at: now, event: { jobId: "job_ro", status: "completed", raw: {} } });
      } finally {
        await store.close();
      }
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO ${role}`);
      await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO ${role}`);
      const before = await everything();

      const url = new URL(DATABASE_URL);
      url.username = role;
      const jobs = await run(["jobs", "--database-url", url.toString(), "--schema", schema]);
      expect(jobs.stderr).toBe("");
      expect(jobs.code).toBe(0);
      expect(jobs.stdout.split("\t").slice(0, 2)).toEqual(["job_ro", "completed"]);
      const letters = await run(["dlq", "list", "--database-url", url.toString(), "--schema", schema]);
      expect(letters).toMatchObject({ code: 0, stdout: "", stderr: "" });
      // No migration, no hold taken or given back, no row touched.
      expect(await everything()).toEqual(before);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });

  it("refuses --store with --database-url (exit 2, one line), lets an explicit --store beat DATABASE_URL, never prints the password", async () => {
    const both = await run(["jobs", "--store", join(dir, "store.json"), "--database-url", DATABASE_URL]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split("\n")).toHaveLength(1);
    expect(both.stderr).toMatch(/give --store .* or --database-url .*, not both/);

    // A flag beats the environment: the file store it names is read (here: not there).
    const fileWins = await run(["jobs", "--store", join(dir, "elsewhere.json")], { DATABASE_URL });
    expect(fileWins.code).toBe(2);
    expect(fileWins.stderr).toMatch(/No store here yet.*elsewhere\.json/);

    const schemaAlone = await run(["jobs", "--schema", SCHEMA, "--store", join(dir, "store.json")]);
    expect(schemaAlone.code).toBe(2);
    expect(schemaAlone.stderr).toContain("--schema is the PostgreSQL schema");

    // Nothing listens on port 1: the error names host, port, database and schema only.
    const secret = "hunter2-do-not-print";
    for (const args of [
      ["jobs", "--database-url", `postgres://hookscribe:${secret}@127.0.0.1:1/test`],
      ["dlq", "list", "--schema", "not_there"],
      ["transcribe", "https://audio.example/x.wav", "--base-url", "http://127.0.0.1:9", "--api-key", "k", "--webhook-secret", "s", "--port", "0"],
    ]) {
      const result = await run(args, { DATABASE_URL: `postgres://hookscribe:${secret}@127.0.0.1:1/test` });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/unreachable.*\(store: postgres:\/\/127\.0\.0\.1:1\/test \(schema \w+\)\)/);
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
    // A schema without hookscribe's tables is not created by a read.
    const missing = await run(["jobs", "--schema", "hookscribe_cli_not_there"], { DATABASE_URL });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No store here yet");
    const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      expect((await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = 'hookscribe_cli_not_there'")).rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it("works without pg installed; --database-url then says to install it", async () => {
    // The built CLI next to a node_modules that holds everything but pg.
    const root = fileURLToPath(new URL("..", import.meta.url));
    const app = join(dir, "app");
    await mkdir(join(app, "node_modules"), { recursive: true });
    await cp(join(root, "dist"), join(app, "dist"), { recursive: true });
    await cp(join(root, "package.json"), join(app, "package.json"));
    for (const name of await readdir(join(root, "node_modules"))) {
      if (name !== "pg") await symlink(join(root, "node_modules", name), join(app, "node_modules", name));
    }
    const runApp = (args: string[], env: Record<string, string> = {}) =>
      new Promise<Run>((resolve) => {
        execFile(process.execPath, [join(app, "dist", "cli.js"), ...args], { cwd: dir, env: { ...process.env, ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
        });
      });
    const file = await runApp(["jobs", "--store", join(dir, "none.json")]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/No store here yet/);
    const postgres = await runApp(["jobs"], { DATABASE_URL });
    expect(postgres.code).toBe(2);
    expect(postgres.stderr).toMatch(/^hookscribe: .*install pg to use --database-url/);
    expect(postgres.stderr.trim().split("\n")).toHaveLength(1);
  });
});
