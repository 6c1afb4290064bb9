import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Behaviour tests that run on both stores: everything that goes through a Transcriber's harness. */
const POSTGRES_RUNS = [
  "test/transcribe.test.ts",
  "test/receiver.test.ts",
  "test/restart.test.ts",
  "test/dead-letters.test.ts",
  "test/timeout-abort.test.ts",
  "test/metrics.test.ts",
  "test/providers/assemblyai.test.ts",
  "test/providers/deepgram.test.ts",
  "test/providers/revai.test.ts",
  "test/providers/speechmatics.test.ts",
  "test/providers/gladia.test.ts",
];

export default defineConfig({
  resolve: {
    alias: [
      { find: /^hookscribe\/dev$/, replacement: fileURLToPath(new URL("./src/dev/index.ts", import.meta.url)) },
      { find: /^hookscribe\/postgres$/, replacement: fileURLToPath(new URL("./src/postgres/index.ts", import.meta.url)) },
      { find: /^hookscribe\/langchain$/, replacement: fileURLToPath(new URL("./src/langchain/index.ts", import.meta.url)) },
      { find: /^hookscribe$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      { extends: true, test: { name: "json", include: ["test/**/*.test.ts"] } },
      {
        // The behaviour tests once more, on the PostgreSQL store (see test/helpers.ts).
        extends: true,
        test: { name: "postgres", include: POSTGRES_RUNS, env: { HOOKSCRIBE_TEST_STORE: "postgres" } },
      },
    ],
  },
});
