import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_UNAVAILABLE, TEST_DATABASE_URL, dropSchemas } from "./store-choice.js";

/**
 * The package as a user meets it: `npm pack` of the built repository (npm test builds dist/
 * first), installed from the tarball into an empty folder together with the optional peer
 * `@langchain/core`, then used from plain `.cjs` and `.mjs` files run by node. Nothing here
 * resolves to src/: the scripts see only what npm installed.
 */

const REPO = fileURLToPath(new URL("..", import.meta.url));
const TEXT = "packed and installed";
const execFileAsync = promisify(execFile);

let root: string;
let consumer: string;

/**
 * The environment for npm and the scripts, without what an enclosing `npm test` exported about
 * this repository (`npm_config_local_prefix`, `npm_package_*`…): the install must land in the
 * consumer folder, not here.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(cache|userconfig|globalconfig|cafile|registry|.*proxy)$/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

async function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, { cwd, env: { ...cleanEnv(), ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 100_000 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(" ")} failed in ${cwd}:\n${stderr ?? ""}\n${stdout ?? ""}`, { cause: error });
  }
}

/** Runs a script of the consumer with node; it prints one JSON line. */
async function runScript(name: string, nodeFlags: string[] = []): Promise<Record<string, unknown>> {
  const stdout = await run(process.execPath, [...nodeFlags, name], consumer);
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;
}

const SCHEMA = `package_${process.pid}_${Date.now().toString(36)}`;

// A round trip: the emulator from `hookscribe/dev`, a client from `hookscribe`, one transcript;
// with SCHEMA set, on the PostgreSQL store of `hookscribe/postgres`.
const ROUND_TRIP_BODY = `
  const dir = mkdtempSync(join(tmpdir(), "hookscribe-consumer-"));
  const dev = await startDevProvider({ processingDelayMs: 20, retryDelaysMs: [20, 40], engine: fixedTextEngine(${JSON.stringify(TEXT)}) });
  const { SCHEMA, DATABASE_URL } = process.env;
  const client = new Transcriber({
    provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
    receiver: { port: 0 },
    ...(SCHEMA ? { store: postgresStore({ connectionString: DATABASE_URL, schema: SCHEMA }) } : { storePath: join(dir, "store.json") }),
  });
  try {
    const transcript = await client.transcribe("https://audio.example/consumer.wav");
    console.log(JSON.stringify({
      text: transcript.text,
      status: transcript.status,
      words: transcript.words.map((w) => w.text),
      submits: dev.stats.submits,
      emulatorInMainEntry: "startDevProvider" in core,
      requireLoadsEsm: process.features.require_module === true,
    }));
  } finally {
    await client.close();
    await dev.close();
    rmSync(dir, { recursive: true, force: true });
  }
`;

const ROUND_TRIP_CJS = `"use strict";
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const core = require("hookscribe");
const { Transcriber, genericProvider } = core;
const { startDevProvider, fixedTextEngine } = require("hookscribe/dev");
const { postgresStore } = require("hookscribe/postgres");

(async () => {${ROUND_TRIP_BODY}})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const ROUND_TRIP_MJS = `import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as core from "hookscribe";
import { Transcriber, genericProvider } from "hookscribe";
import { startDevProvider, fixedTextEngine } from "hookscribe/dev";
import { postgresStore } from "hookscribe/postgres";
${ROUND_TRIP_BODY}`;

/**
 * Loads every entry through \`import\` and through \`require\`, provokes a ConfigurationError in the
 * LangChain and the emulator entries, and reports what each module system's main entry makes of it.
 */
const IDENTITY_MJS = `import { createRequire } from "node:module";
import * as esmCore from "hookscribe";
import * as esmDev from "hookscribe/dev";
import * as esmLangchain from "hookscribe/langchain";
import * as esmPostgres from "hookscribe/postgres";

const require = createRequire(import.meta.url);
const systems = {
  esm: { core: esmCore, dev: esmDev, langchain: esmLangchain, postgres: esmPostgres },
  cjs: { core: require("hookscribe"), dev: require("hookscribe/dev"), langchain: require("hookscribe/langchain"), postgres: require("hookscribe/postgres") },
};

async function caught(action) {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

const report = {};
const errors = {};
for (const [system, { core, dev, langchain, postgres }] of Object.entries(systems)) {
  const client = new core.Transcriber({
    provider: core.genericProvider({ baseUrl: "http://127.0.0.1:9", apiKey: "key", webhookSecret: "secret" }),
    storePath: "unused/store.json",
  });
  const fromLangchain = await caught(() => langchain.createTranscribeTool(client, { name: "bad name!" }));
  const fromDev = await caught(() => dev.startDevProvider({ port: -1 }));
  const fromPostgres = await caught(() => postgres.postgresStore({ schema: "Not A Schema" }));
  const toolError = new langchain.TranscribeToolError("for the model", { jobId: "job-1", cause: fromLangchain });
  errors[system] = fromLangchain;
  const check = (error) => ({
    name: error.name,
    instanceofConfigurationError: error instanceof core.ConfigurationError,
    instanceofHookscribeError: error instanceof core.HookscribeError,
    isHookscribeError: core.isHookscribeError(error),
  });
  report[system] = {
    langchain: check(fromLangchain),
    dev: check(fromDev),
    postgres: check(fromPostgres),
    toolError: {
      name: toolError.name,
      jobId: toolError.jobId,
      instanceofHookscribeError: toolError instanceof core.HookscribeError,
      isHookscribeError: core.isHookscribeError(toolError),
    },
  };
}
// One copy per module system: the ESM and the CommonJS build are two, and isHookscribeError
// recognises the errors of either.
report.across = {
  cjsCheckOnEsmError: systems.cjs.core.isHookscribeError(errors.esm),
  esmCheckOnCjsError: systems.esm.core.isHookscribeError(errors.cjs),
};
console.log(JSON.stringify(report));
`;

describe("the packed package, installed into an empty folder", () => {
  beforeAll(async () => {
    if (!existsSync(join(REPO, "dist", "index.cjs"))) {
      throw new Error("dist/ is missing: run `npm run build` first (npm test builds before it runs the tests)");
    }
    root = await mkdtemp(join(tmpdir(), "hookscribe-package-"));
    consumer = join(root, "consumer");
    await mkdir(consumer);

    // --ignore-scripts: the `prepack` build would rebuild dist/ under the other tests' feet.
    const packed = JSON.parse(await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], REPO)) as { filename: string }[];
    const tarball = join(root, packed[0]!.filename);

    const peerVersion = async (name: string) => JSON.parse(await readFile(join(REPO, "node_modules", name, "package.json"), "utf8")).version as string;
    await writeFile(join(consumer, "package.json"), `${JSON.stringify({ name: "consumer", private: true }, null, 2)}\n`);
    await run(
      "npm",
      ["install", "--prefix", consumer, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball, `@langchain/core@${await peerVersion("@langchain/core")}`, `pg@${await peerVersion("pg")}`],
      consumer,
    );

    await writeFile(join(consumer, "round-trip.cjs"), ROUND_TRIP_CJS);
    await writeFile(join(consumer, "round-trip.mjs"), ROUND_TRIP_MJS);
    await writeFile(join(consumer, "identity.mjs"), IDENTITY_MJS);
  }, 180_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    if (!POSTGRES_UNAVAILABLE) await dropSchemas([SCHEMA]);
  });

  it("a CommonJS file gets a transcript (require of hookscribe and hookscribe/dev)", async () => {
    // Without require(esm): the CommonJS build must not lean on node loading an ES module.
    const result = await runScript("round-trip.cjs", ["--no-experimental-require-module"]);
    expect(result).toEqual({ text: TEXT, status: "completed", words: TEXT.split(" "), submits: 1, emulatorInMainEntry: false, requireLoadsEsm: false });
  }, 60_000);

  it("an ES module file gets a transcript (import of hookscribe and hookscribe/dev)", async () => {
    const result = await runScript("round-trip.mjs");
    expect(result).toMatchObject({ text: TEXT, status: "completed", words: TEXT.split(" "), submits: 1, emulatorInMainEntry: false });
  }, 60_000);

  it.skipIf(POSTGRES_UNAVAILABLE).each(["round-trip.cjs", "round-trip.mjs"])("%s gets a transcript on the PostgreSQL store of hookscribe/postgres", async (name) => {
    const stdout = await run(process.execPath, [name], consumer, { SCHEMA, DATABASE_URL: TEST_DATABASE_URL });
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toMatchObject({ text: TEXT, status: "completed", submits: 1 });
  }, 60_000);

  it("errors from the subpath entries are the main entry's classes, through require and through import", async () => {
    const report = await runScript("identity.mjs");
    const configurationError = {
      name: "ConfigurationError",
      instanceofConfigurationError: true,
      instanceofHookscribeError: true,
      isHookscribeError: true,
    };
    const expected = {
      langchain: configurationError,
      dev: configurationError,
      postgres: configurationError,
      toolError: { name: "TranscribeToolError", jobId: "job-1", instanceofHookscribeError: true, isHookscribeError: true },
    };
    expect(report).toEqual({ esm: expected, cjs: expected, across: { cjsCheckOnEsmError: true, esmCheckOnCjsError: true } });
  }, 60_000);

  it("the subpath bundles carry no copy of the main entry's classes", async () => {
    const installed = join(consumer, "node_modules", "hookscribe");
    const mainClasses = Object.keys(await import(join(installed, "dist", "index.js"))).filter((name) => /^[A-Z]/.test(name));
    expect(mainClasses).toEqual(expect.arrayContaining(["HookscribeError", "ConfigurationError", "Transcriber", "TranscriptionJob"]));
    for (const file of ["langchain.cjs", "langchain.js", "dev.cjs", "dev.js", "postgres.cjs", "postgres.js"]) {
      const code = await readFile(join(installed, "dist", file), "utf8");
      for (const name of mainClasses) {
        expect(code, `${file} defines ${name}`).not.toMatch(new RegExp(`\\b${name}\\s*=\\s*class\\b|\\bclass\\s+${name}\\b`));
      }
    }
  });

  it("every file the exports map names is in the package", async () => {
    const installed = join(consumer, "node_modules", "hookscribe");
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as { exports: Record<string, unknown> };
    const targets: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === "string") targets.push(value);
      else if (value && typeof value === "object") Object.values(value).forEach(collect);
    };
    collect(manifest.exports);
    expect(Object.keys(manifest.exports)).toEqual([".", "./langchain", "./dev", "./postgres", "./package.json"]);
    expect(targets.filter((target) => !existsSync(join(installed, target)))).toEqual([]);
  });
});

describe("the build rule for the subpath entries", () => {
  // tsup.config.ts turns every import of src/errors/ in hookscribe/langchain and hookscribe/dev
  // into an import of the main entry: that only works while the main entry exports all of it.
  it("the main entry exports everything src/errors/ exports", async () => {
    const main = await import("hookscribe");
    const dir = new URL("../src/errors/", import.meta.url);
    for (const file of await readdir(dir)) {
      const exported = Object.keys(await import(fileURLToPath(new URL(file, dir))));
      expect(Object.keys(main), `src/errors/${file}`).toEqual(expect.arrayContaining(exported));
    }
  });
});
