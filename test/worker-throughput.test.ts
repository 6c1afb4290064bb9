import type { Provider } from "hookscribe";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, SAMPLE_TEXT, fastProvider, harness } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.cleanup());

describe("worker throughput", () => {
  it("a result fetch that hangs holds no slot a full delivery needs: `concurrency` bounds fetches, not store work", async () => {
    // Long enough that the first job's id is known before its webhook comes.
    h = await harness({ dev: { processingDelayMs: 200 } });
    const base = fastProvider(h.dev);
    let thinJobId: string | undefined;
    let fetchesStarted = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const provider: Provider = {
      ...base,
      // The first job's webhook arrives without its transcript, and fetching it hangs until released.
      parse: (request) => {
        const event = base.parse(request);
        return event && event.jobId === thinJobId && event.status === "completed" ? { ...event, result: undefined } : event;
      },
      fetchResult: async (jobId, options) => {
        fetchesStarted++;
        await released;
        return base.fetchResult!(jobId, options);
      },
    };
    const client = h.restart({ provider, concurrency: 1 });
    const thin = client.transcribe("https://audio.example/thin.wav");
    thinJobId = await thin.submitted;
    // The full delivery of a later job is processed while the thin one waits for its fetch.
    expect((await client.transcribe("https://audio.example/full.wav")).text).toBe(SAMPLE_TEXT);
    expect(fetchesStarted).toBe(1);
    release();
    expect((await thin).text).toBe(SAMPLE_TEXT);
  });
});
