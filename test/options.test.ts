import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { ConfigurationError, Transcriber, genericProvider } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, harness, rejection } from "./helpers.js";

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
    expect(make).toThrow(/receiver\.path: path must look like.*concurrency: /s);
  });

  it("rejects something that is not a provider", () => {
    expect(() => new Transcriber({ provider: {} as never })).toThrow(/provider must be a Provider object/);
  });

  it("genericProvider validates its own options", () => {
    expect(() => genericProvider({ baseUrl: "not a url", apiKey: "", webhookSecret: "s" })).toThrow();
  });

  it("fails fast when a remote provider could not reach a loopback receiver", async () => {
    h = await harness();
    const client = h.restart({ provider: remoteProvider() });
    const error = await rejection(client.transcribe("https://audio.example/a.wav"));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/cannot reach the receiver.*receiver\.publicUrl/s);
  });

  it("accepts a remote provider when publicUrl is public, without contacting anything at construction", () => {
    expect(
      () => new Transcriber({ provider: remoteProvider(), receiver: { port: 0, publicUrl: "https://hooks.example.com" } }),
    ).not.toThrow();
  });

  it("refuses an audio URL the provider could not download", async () => {
    h = await harness();
    await expect(h.client.transcribe("call.mp3")).rejects.toThrow(/absolute http\(s\) URL/);
    await expect(h.client.transcribe("file:///tmp/call.mp3")).rejects.toThrow(/http or https/);
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
