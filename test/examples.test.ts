import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { readdir } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { POSTGRES_UNAVAILABLE } from "./store-choice.js";

const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const examples = (await readdir(new URL("../examples/", import.meta.url))).filter((name) => name.endsWith(".ts") && name !== "demo.ts");

/** What each example must print: the outcome it shows, not merely some output. */
const EXPECTED: Record<string, RegExp[]> = {
  "assemblyai.ts": [/^[0-9a-f-]{36} hello from the assemblyai emulator$/m, /^5 words, the last ending at 2 s; language en$/m],
  "captions.ts": [/^1\n00:00:00,000 --> \d{2}:\d{2}:\d{2},\d{3}\nHello from hookscribe\.$/m, /WEBVTT/],
  "deepgram.ts": [/^[0-9a-f-]{36} Hello from the Deepgram emulator\.\n5 words, the last "emulator\." ending at 2 s; customer c-42$/m],
  "dead-letters.ts": [/error: 'result endpoint down'/, /attempts: 3/, /the waiting handle resolved: replayed from the dead letters/, /dead letters left: 0/],
  "events.ts": [/'transcript' job_\w+: one event per job/, /'delivery': 6 × 200 accepted, \d+ × 200 duplicate/],
  "gladia.ts": [/^[0-9a-f-]{36} hello from the gladia emulator\n5 words, "hello" from 0 s to 0\.4 s, language en$/m],
  "langchain-tool.ts": [/^text: the meeting moves to thursday at ten$/m, /^json: job job_\w+, 7 words, "meeting" at 0\.4 s$/m],
  "metrics.ts": [/^hookscribe_deliveries_total\{http_response_status_code="200",outcome="accepted",[^}]*\} 4$/m, /^hookscribe_worker_backlog\{[^}]*\} 0$/m],
  "postgres.ts": [/^job_\w+ hello from the postgres store$/m, /^job_\w+: completed, in postgres:\/\/[^@\s]+ \(schema hookscribe_example\)$/m],
  "pick-up-after-restart.ts": [/^submitted (job_\w+), then the process stopped\npicked up \1: picked up after a restart$/m],
  "revai.ts": [/^[A-Za-z0-9]{12} Hello from the Rev\.ai emulator\.\n5 words, the last "emulator\." ending at 2 s; speaker 0; metadata \{"customer":"c-42"\}$/m],
  "speechmatics.ts": [/^[a-z0-9]{10} Hello from the Speechmatics emulator\.\n5 words, the last "emulator\." ending at 2 s; language en; customer c-42$/m],
  "timeouts-and-cancel.ts": [/^timed out: Job job_\w+ not finished after 300 ms/m, /the late webhook still resolved it: worth the wait/, /^AbortError: Stopped waiting for job job_\w+/m],
  "transcribe.ts": [/^job_\w+ hello from the emulator$/m],
};

// The README promises every example runs as shown; run each one as a user would.
describe("examples", () => {
  it("every example has its expected output listed", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...examples].sort());
  });

  it.for(examples)("%s prints the outcome it demonstrates", async (name, context) => {
    // examples/postgres.ts needs the server; the others need nothing.
    if (name === "postgres.ts" && POSTGRES_UNAVAILABLE) context.skip();
    const { stdout } = await run(process.execPath, [tsx, `examples/${name}`], {
      cwd: new URL("..", import.meta.url),
      timeout: 30_000,
      env: { ...process.env, HOOKSCRIBE_BASE_URL: "", NODE_ENV: "production" },
    });
    for (const pattern of EXPECTED[name] ?? []) expect(stdout).toMatch(pattern);
  });

  it("the demo prints the transcript of the bundled sample", async () => {
    const { stdout } = await run(process.execPath, [tsx, "examples/demo.ts"], { cwd: new URL("..", import.meta.url), timeout: 30_000 });
    expect(stdout).toContain("transcript: Hello from hookscribe.");
    expect(stdout).toMatch(/requests to the provider: 1 /);
  });
});
