import { rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { ConfigurationError, type ReceiverOptions, Transcriber, type TranscriberOptions, genericProvider } from "hookscribe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../src/shared/logger.js";
import { resolveTranscriberOptions } from "../src/options.js";
import { type Harness, harness, rejection, tempDir } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const remoteProvider = () => genericProvider({ baseUrl: "https://stt.example.com", apiKey: "key", webhookSecret: "secret" });

describe("options and bad input", () => {
  it("names every invalid option", () => {
    const make = () =>
      new Transcriber({
        provider: remoteProvider(),
        concurrency: 0,
        receiver: { path: "webhooks/" },
      });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(/receiver\.path: must look like "\/webhooks".*, got "webhooks\/"; concurrency: must be > 0, got 0/s);
  });

  it("rejects something that is not a provider", () => {
    expect(() => new Transcriber({ provider: {} as never })).toThrow(/provider: must be a Provider object/);
  });

  it("genericProvider validates its own options", () => {
    const make = () => genericProvider({ baseUrl: "not a url", apiKey: "", webhookSecret: "s" });
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow('Invalid genericProvider options: baseUrl: must be an absolute URL, got "not a url"; apiKey: must not be empty');
  });

  it("fills in every default that is not given", () => {
    const provider = remoteProvider();
    expect(resolveTranscriberOptions({ provider })).toEqual({
      provider,
      receiver: {
        host: "127.0.0.1",
        port: 8787,
        path: "/webhooks",
        maxBodyBytes: 5 * 1024 * 1024,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        maxConnections: 512,
        maxBufferedBytes: 64 * 1024 * 1024,
        maxBacklog: 10_000,
      },
      storePath: ".hookscribe/store.json",
      fsync: false,
      retentionMs: 7 * 24 * 60 * 60 * 1000,
      concurrency: 4,
      timeoutMs: 60 * 60 * 1000,
      retry: { attempts: 5, minDelayMs: 1000, maxDelayMs: 60_000 },
      silenceAlertMs: 15 * 60 * 1000,
      logger: silentLogger,
    });
    // A nested group given in part keeps the defaults of the fields left out.
    expect(resolveTranscriberOptions({ provider, receiver: { port: 0 }, retry: { attempts: 2 } })).toMatchObject({
      receiver: { host: "127.0.0.1", port: 0, path: "/webhooks" },
      retry: { attempts: 2, minDelayMs: 1000, maxDelayMs: 60_000 },
    });
  });

  it("rejects a misspelt option instead of ignoring it, and suggests the right name", () => {
    const make = () => new Transcriber({ provider: remoteProvider(), reciever: { port: 0 } } as TranscriberOptions);
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow('Invalid Transcriber options: reciever: unknown option (did you mean "receiver"?)');
    expect(() => new Transcriber({ provider: remoteProvider(), receiver: { prot: 0 } as ReceiverOptions })).toThrow(
      'Invalid Transcriber options: receiver.prot: unknown option (did you mean "port"?)',
    );
  });

  it("rejects a retry whose smallest delay is larger than its largest", () => {
    expect(() => new Transcriber({ provider: remoteProvider(), retry: { maxDelayMs: 500 } })).toThrow(
      "Invalid Transcriber options: retry.minDelayMs: must not exceed maxDelayMs (1000 > 500)",
    );
  });

  it("fails fast when a remote provider could not reach a loopback receiver", async () => {
    h = await harness();
    const client = h.restart({ provider: remoteProvider() });
    const error = await rejection(client.transcribe("https://audio.example/a.wav"));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/cannot reach the receiver.*receiver\.publicUrl/s);
  });

  it("accepts a remote provider when publicUrl is public, and starts without contacting the provider", async () => {
    const provider = remoteProvider();
    const submit = vi.spyOn(provider, "submit");
    const fetchResult = vi.spyOn(provider, "fetchResult");
    const dir = await tempDir();
    const client = new Transcriber({
      provider,
      storePath: join(dir, "store.json"),
      receiver: { port: 0, publicUrl: "https://hooks.example.com" },
    });
    try {
      await client.start();
      expect(client.receiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(submit).not.toHaveBeenCalled();
      expect(fetchResult).not.toHaveBeenCalled();
    } finally {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses an audio URL the provider could not download", async () => {
    h = await harness();
    expect(() => h!.client.transcribe("call.mp3")).toThrow(/absolute http\(s\) URL/);
    expect(() => h!.client.transcribe("file:///tmp/call.mp3")).toThrow(/http or https/);
    expect(h.dev.stats.submits).toBe(0);
  });

  it("explains a port that is already taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      h = await harness({ client: { receiver: { port } } });
      await expect(h.client.start()).rejects.toThrow(/cannot listen.*port in use/s);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("start() is idempotent and transcribe() starts the client lazily", async () => {
    h = await harness();
    expect(h.client.receiverUrl).toBeUndefined();
    await Promise.all([h.client.start(), h.client.start()]);
    const url = h.client.receiverUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await h.client.start();
    expect(h.client.receiverUrl).toBe(url);
  });
});

describe("one client per store", () => {
  it("refuses a second client on a store in use, and frees the store on close", async () => {
    h = await harness();
    await h.client.start();
    const second = h.restart();
    await expect(second.start()).rejects.toThrow(/already uses this store/);
    await h.client.close();
    await second.start();
    expect(second.receiverUrl).toBeDefined();
  });

  it("sees through different spellings of the same store path", async () => {
    h = await harness();
    await h.client.start();
    const second = h.restart({ storePath: `${h.dir}/./sub/../store.json` });
    await expect(second.start()).rejects.toThrow(/already uses this store/);
  });

  it("takes over a lock left by a process that is gone", async () => {
    h = await harness();
    await writeFile(`${h.storePath}.lock`, "2147483646");
    await h.client.start();
    expect(h.client.receiverUrl).toBeDefined();
  });
});
