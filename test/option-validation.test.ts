import { ConfigurationError, Transcriber, genericProvider, isHookscribeError, toSrt, toVtt } from "hookscribe";
import { createTranscribeTool } from "hookscribe/langchain";
import { describe, expect, it } from "vitest";
import { startDevProvider } from "../src/dev/dev-provider.js";
import { createMcpServer } from "../src/mcp/index.js";

const providerOptions = { baseUrl: "https://stt.example.com", apiKey: "key", webhookSecret: "secret" };
// Never started: constructing a client does no I/O.
const client = new Transcriber({ provider: genericProvider(providerOptions), storePath: "/nonexistent/store.json" });
const transcript = { text: "hello", words: [{ text: "hello", start: 0, end: 0.5 }] };

/** The error `run` throws or rejects with. */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, got none");
}

/** Each public entry that takes options: a misspelt key, and a value of the wrong type. */
const ENTRIES: { entry: string; unknownKey: () => unknown; unknownMessage: string; wrongType: () => unknown; wrongTypeMessage: string }[] = [
  {
    entry: "new Transcriber",
    unknownKey: () => new Transcriber({ provider: genericProvider(providerOptions), concurency: 2 } as never),
    unknownMessage: 'Invalid Transcriber options: concurency: unknown option (did you mean "concurrency"?)',
    wrongType: () => new Transcriber({ provider: genericProvider(providerOptions), receiver: { port: "8787" as never } }),
    wrongTypeMessage: 'Invalid Transcriber options: receiver.port: expected a finite number, got "8787"',
  },
  {
    entry: "genericProvider",
    unknownKey: () => genericProvider({ ...providerOptions, requestTimeout: 5000 } as never),
    unknownMessage: 'Invalid genericProvider options: requestTimeout: unknown option (did you mean "requestTimeoutMs"?)',
    wrongType: () => genericProvider({ ...providerOptions, retry: { limit: "3" as never } }),
    wrongTypeMessage: 'Invalid genericProvider options: retry.limit: expected a finite number, got "3"',
  },
  {
    entry: "startDevProvider",
    unknownKey: () => startDevProvider({ procesingDelayMs: 5 } as never),
    unknownMessage: 'Invalid startDevProvider options: procesingDelayMs: unknown option (did you mean "processingDelayMs"?)',
    wrongType: () => startDevProvider({ sendProcessingWebhook: "yes" as never }),
    wrongTypeMessage: 'Invalid startDevProvider options: sendProcessingWebhook: expected true or false, got "yes"',
  },
  {
    entry: "createTranscribeTool",
    unknownKey: () => createTranscribeTool(client, { outputs: "json" } as never),
    unknownMessage: 'Invalid createTranscribeTool options: outputs: unknown option (did you mean "output"?)',
    wrongType: () => createTranscribeTool(client, { output: "xml" as never }),
    wrongTypeMessage: 'Invalid createTranscribeTool options: output: must be one of "text", "json", got "xml"',
  },
  {
    entry: "toSrt",
    unknownKey: () => toSrt(transcript, { maxChar: 32 } as never),
    unknownMessage: 'Invalid caption options: maxChar: unknown option (did you mean "maxChars"?)',
    wrongType: () => toSrt(transcript, { maxChars: "32" as never }),
    wrongTypeMessage: 'Invalid caption options: maxChars: must be a positive whole number of characters (default 42), got "32"',
  },
  {
    entry: "toVtt",
    unknownKey: () => toVtt(transcript, { maxGap: 1 } as never),
    unknownMessage: 'Invalid caption options: maxGap: unknown option (did you mean "maxGapSec"?)',
    wrongType: () => toVtt(transcript, { maxGapSec: null as never }),
    wrongTypeMessage: "Invalid caption options: maxGapSec: must be a positive number of seconds (default 1.5), got null",
  },
  {
    entry: "createMcpServer",
    unknownKey: () => createMcpServer(client, { timeout: 1000 } as never),
    unknownMessage: 'Invalid createMcpServer options: timeout: unknown option (did you mean "timeoutMs"?)',
    wrongType: () => createMcpServer(client, { heartbeatMs: "5s" as never }),
    wrongTypeMessage: 'Invalid createMcpServer options: heartbeatMs: expected a finite number, got "5s"',
  },
];

describe("every public entry checks its options the same way", () => {
  it.each(ENTRIES)("$entry rejects an unknown key, naming it", async ({ unknownKey, unknownMessage }) => {
    const error = await failure(unknownKey);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(isHookscribeError(error)).toBe(true);
    expect((error as Error).message).toBe(unknownMessage);
  });

  it.each(ENTRIES)("$entry rejects a value of the wrong type, naming the option", async ({ wrongType, wrongTypeMessage }) => {
    const error = await failure(wrongType);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(wrongTypeMessage);
  });

  it("reports every problem at once, nested paths included, without echoing secrets", () => {
    const make = () =>
      genericProvider({ baseUrl: "stt.example.com", apiKey: 42 as never, webhookSecret: ["ok", ""], retry: { minDelayMs: -1 }, extra: true } as never);
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(
      'Invalid genericProvider options: baseUrl: must be an absolute URL, got "stt.example.com"; apiKey: expected a string; ' +
        "webhookSecret[1]: must not be empty; retry.minDelayMs: must be >= 0, got -1; extra: unknown option",
    );
  });

  it("names a missing required option", () => {
    expect(() => genericProvider({ baseUrl: "https://stt.example.com", webhookSecret: "s" } as never)).toThrow(
      "Invalid genericProvider options: apiKey: required (a string)",
    );
    expect(() => new Transcriber({} as never)).toThrow("Invalid Transcriber options: provider: must be a Provider object");
  });
});
