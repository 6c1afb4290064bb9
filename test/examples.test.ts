import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { readdir } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const examples = (await readdir(new URL("../examples/", import.meta.url))).filter((name) => name.endsWith(".ts") && name !== "demo.ts");

// The README promises every example runs as shown; run each one as a user would.
describe("examples", () => {
  it.each(examples)("%s runs to completion", async (name) => {
    const { stdout } = await run(process.execPath, [tsx, `examples/${name}`], {
      cwd: new URL("..", import.meta.url),
      timeout: 30_000,
      env: { ...process.env, HOOKSCRIBE_BASE_URL: "", NODE_ENV: "production" },
    });
    expect(stdout.trim().length).toBeGreaterThan(0);
  });

  it("the demo prints the transcript of the bundled sample", async () => {
    const { stdout } = await run(process.execPath, [tsx, "examples/demo.ts"], { cwd: new URL("..", import.meta.url), timeout: 30_000 });
    expect(stdout).toContain("transcript: Hello from hookscribe.");
    expect(stdout).toMatch(/requests to the provider: 1 /);
  });
});
