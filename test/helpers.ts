import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, vi } from "vitest";
import { FileJobStore } from "../src/store/file-job-store.js";
import { type Logger, type Provider, type Transcript, Transcriber, type TranscriberOptions, genericProvider } from "hookscribe";
import { type DevProvider, type DevProviderOptions, fixedTextEngine, startDevProvider } from "../src/dev/dev-provider.js";
import { POSTGRES_UNAVAILABLE, TEST_STORE, dropSchemas, schemaFor, storeLocation, storeOptions } from "./store-choice.js";
import { type StoredState, readStoredState } from "./stored-state.js";

export { POSTGRES_UNAVAILABLE, TEST_DATABASE_URL, TEST_STORE, dropSchemas, schemaFor, storeLocation, storeOptions } from "./store-choice.js";
export { type StoredState, readStoredState } from "./stored-state.js";

export const SAMPLE_TEXT = "the quick brown fox jumps over the lazy dog";

/** A test of the JSON file store itself (its files on disk): it does not run on PostgreSQL. */
export const itOnFiles = it.skipIf(TEST_STORE === "postgres");

/** Tests that need the PostgreSQL server: skipped on a machine without one (never under CI). */
export const describeOnPostgres = describe.skipIf(POSTGRES_UNAVAILABLE);
export const itOnPostgres = it.skipIf(POSTGRES_UNAVAILABLE);

/** Drops the schemas of these store paths (PostgreSQL runs only). */
async function dropStoreSchemas(storePaths: Iterable<string>): Promise<void> {
  if (TEST_STORE === "postgres") await dropSchemas(new Set([...storePaths].map(schemaFor)));
}

/** A temp directory for one test's store; removed by `cleanup`. */
export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "hookscribe-test-"));
}

/** Scaled-down delays so retries and backoffs take milliseconds. */
export const FAST_DEV: DevProviderOptions = {
  processingDelayMs: 20,
  retryDelaysMs: [20, 40, 80],
  engine: fixedTextEngine(SAMPLE_TEXT),
};

export function fastProvider(dev: DevProvider, overrides: Partial<Parameters<typeof genericProvider>[0]> = {}) {
  return genericProvider({
    baseUrl: dev.url,
    apiKey: dev.apiKey,
    webhookSecret: dev.webhookSecret,
    retry: { limit: 3, minDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  });
}

export interface Harness {
  dev: DevProvider;
  client: Transcriber;
  dir: string;
  storePath: string;
  /** How the store names itself in messages: `storePath`, or the database and schema on PostgreSQL. */
  location: string;
  /** What the store holds right now, read from the file or the tables themselves (see `StoredState`). */
  stored(): Promise<StoredState>;
  logs: { level: string; obj: object; msg?: string }[];
  /** A second client on the same store (after `client.close()`), as a restarted process would have. */
  restart(overrides?: Partial<TranscriberOptions>): Transcriber;
  cleanup(): Promise<void>;
}

/**
 * Emulator + client on an ephemeral port + store in a temp dir, all real. `provider` builds the
 * adapter for the emulator's dialect (default: `genericProvider` for the reference protocol).
 */
export async function harness(
  options: { dev?: DevProviderOptions; client?: Partial<TranscriberOptions>; dir?: string; provider?: (dev: DevProvider) => Provider } = {},
): Promise<Harness> {
  const dev = await startDevProvider({ ...FAST_DEV, ...options.dev });
  const dir = options.dir ?? (await tempDir());
  const storePath = join(dir, "store.json");
  const logs: Harness["logs"] = [];
  const logger: Logger = {
    debug: (obj, msg) => logs.push({ level: "debug", obj, msg }),
    info: (obj, msg) => logs.push({ level: "info", obj, msg }),
    warn: (obj, msg) => logs.push({ level: "warn", obj, msg }),
    error: (obj, msg) => logs.push({ level: "error", obj, msg }),
  };
  const clients: Transcriber[] = [];
  const storePaths = new Set([storePath]);
  const make = (overrides: Partial<TranscriberOptions> = {}) => {
    // fsync is the JSON file's; on PostgreSQL every commit is durable anyway.
    const { storePath: otherPath, fsync, ...rest } = { ...options.client, ...overrides };
    storePaths.add(otherPath ?? storePath);
    const client = new Transcriber({
      provider: (options.provider ?? fastProvider)(dev),
      receiver: { port: 0 },
      ...storeOptions(otherPath ?? storePath),
      ...(TEST_STORE === "json" && fsync !== undefined ? { fsync } : {}),
      retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 20 },
      logger,
      ...rest,
    });
    clients.push(client);
    return client;
  };
  const client = make();
  return {
    dev,
    client,
    dir,
    storePath,
    location: storeLocation(storePath),
    stored: () => readStoredState(storePath),
    logs,
    restart: make,
    async cleanup() {
      for (const c of clients) await c.close();
      await dev.close();
      await dropStoreSchemas(storePaths);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `predicate` holds, checking every few ms; fails after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What a promise rejected with; fails the test if it resolved. */
export async function rejection(promise: PromiseLike<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error as Error,
  );
}

/** A loopback port nothing listens on right now (for a receiver that must keep its port across restarts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Counts the store's transcript writes that fail from now on (the real method runs). */
export function countRefusedTranscriptWrites(): () => number {
  let refused = 0;
  const original = FileJobStore.prototype.writeTranscript;
  vi.spyOn(FileJobStore.prototype, "writeTranscript").mockImplementation(async function (this: FileJobStore, ...args) {
    try {
      return await original.apply(this, args);
    } catch (error) {
      refused++;
      throw error;
    }
  });
  return () => refused;
}

/** The transcripts `client` announces from now on, in order. */
export function collect(client: Transcriber): Transcript[] {
  const seen: Transcript[] = [];
  client.on("transcript", (t) => seen.push(t));
  return seen;
}
