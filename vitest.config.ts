import { connect } from "node:net";
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

/** Test files that need the PostgreSQL server from start to end. */
const POSTGRES_ONLY = ["test/postgres-store.test.ts", "test/replicas.test.ts", "test/shared-store.test.ts"];

const DATABASE_URL = new URL(process.env.HOOKSCRIBE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");

/** Whether the test database's server accepts connections. */
function postgresReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: DATABASE_URL.hostname, port: Number(DATABASE_URL.port || 5432), timeout: 2000 });
    const answer = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.once("connect", () => answer(true));
    socket.once("error", () => answer(false));
    socket.once("timeout", () => answer(false));
  });
}

/*
 * CI runs every PostgreSQL test (.ci/run starts the server first). A machine without the server
 * (`npm install && npm test` on a fresh checkout) runs the rest, and says what it left out.
 */
const postgres = await postgresReachable();
if (!postgres) {
  if (process.env.CI === "true") throw new Error(`CI=true and PostgreSQL is not reachable at ${DATABASE_URL.host}: the PostgreSQL tests must run in CI`);
  console.warn(`PostgreSQL is not reachable at ${DATABASE_URL.host}: the PostgreSQL store's tests are skipped (start the server, or set HOOKSCRIBE_TEST_DATABASE_URL)`);
  process.env.HOOKSCRIBE_TEST_POSTGRES = "unavailable";
}

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
      { extends: true, test: { name: "json", include: ["test/**/*.test.ts"], exclude: postgres ? [] : POSTGRES_ONLY } },
      // The behaviour tests once more, on the PostgreSQL store (see test/helpers.ts).
      ...(postgres ? [{ extends: true as const, test: { name: "postgres", include: POSTGRES_RUNS, env: { HOOKSCRIBE_TEST_STORE: "postgres" } } }] : []),
    ],
  },
});
