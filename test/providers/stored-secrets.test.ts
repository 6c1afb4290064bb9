import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type Provider,
  TranscriptionError,
  assemblyAIProvider,
  deepgramProvider,
  gladiaProvider,
  revAIProvider,
  speechmaticsProvider,
} from "hookscribe";
import type { DevProvider, DevProviderOptions } from "hookscribe/dev";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, harness, rejection } from "../helpers.js";
import { fastAdapter, recordingSecrets } from "./provider-test-kit.js";

/**
 * Every provider: once jobs have succeeded and failed, no file of the store holds a webhook URL
 * token or a per-job secret. The providers echo both back in their payloads and results; `raw`
 * keeps the payload without them.
 */

const ADAPTERS: Record<string, (dev: DevProvider) => Provider> = {
  assemblyai: fastAdapter(assemblyAIProvider),
  deepgram: fastAdapter(deepgramProvider),
  revai: fastAdapter(revAIProvider),
  speechmatics: fastAdapter(speechmaticsProvider),
  gladia: fastAdapter(gladiaProvider),
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/** Every file below `dir`, as text. */
async function filesBelow(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(join(entry.parentPath, entry.name), "utf8")));
  return texts.join("\n");
}

describe.each(Object.keys(ADAPTERS))("%s: the store keeps no token or secret", (dialect) => {
  it("after a job that succeeded and one that failed (thin results and failure messages fetched where the provider is thin)", async () => {
    const secrets: string[] = [];
    h = await harness({
      dev: { dialect: dialect as DevProviderOptions["dialect"], faults: { errorResult: (url) => url.endsWith("fails.wav") } },
      provider: (dev) => recordingSecrets(ADAPTERS[dialect]!(dev), secrets),
    });
    const done = await h.client.transcribe("https://audio.example/works.wav");
    expect(done.text.toLowerCase().replace(/[.,!?]/g, "")).toBe(SAMPLE_TEXT);
    expect(await rejection(h.client.transcribe("https://audio.example/fails.wav"))).toBeInstanceOf(TranscriptionError);
    await h.client.close();

    const tokens = h.dev.jobs().map((job) => job.webhookUrl!.split("/").pop()!);
    expect(tokens).toHaveLength(2);
    expect(secrets).toHaveLength(2);
    const stored = await filesBelow(h.dir);
    for (const value of [...tokens, ...secrets]) expect(stored).not.toContain(value);
  });
});
