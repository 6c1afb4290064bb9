import { BatchClient } from "@speechmatics/batch-client";
import { GladiaClient } from "@gladiaio/sdk";
import { AssemblyAI } from "assemblyai";
import { type Provider, assemblyAIProvider, gladiaProvider, speechmaticsProvider } from "hookscribe";
import { type DevProvider, fixedTextEngine, startDevProvider } from "hookscribe/dev";
import { type Distribution, type Resolutions, TRANSCRIPT_TEXT, concurrentJobs, distribution, hookscribeJobs, resolutionDelays } from "./helpers.js";
import { num, renderTable } from "./table.js";

/**
 * d. Each official SDK whose `transcribe()` polls, against hookscribe's adapter for the same
 * provider, at that provider's dialect emulator: 200 jobs at once, each 1 to 3 s long.
 */

const JOBS = 200;
const JOB_MS = 2_000;
const JOB_JITTER_MS = 1_000;
const JOB_DEADLINE_MS = 60_000;

export interface SdkRow {
  provider: string;
  variant: string;
  /** Requests the emulator received per job: submits, polls, result fetches. */
  requestsPerJob: number;
  /** The caller's await resolved - the emulator finished the job, ms. */
  delay: Distribution;
}

interface Contender {
  provider: "assemblyai" | "speechmatics" | "gladia";
  /** The adapter's factory, as the table names it. */
  factory: string;
  sdk: string;
  /** The SDK's own `transcribe()` of one URL; resolves with the provider's job id. */
  sdkTranscribe(dev: DevProvider, audioUrl: string): Promise<string>;
  adapter(dev: DevProvider): Provider;
}

const CONTENDERS: Contender[] = [
  {
    provider: "assemblyai",
    factory: "assemblyAIProvider",
    sdk: "assemblyai transcripts.transcribe() (polls every 3 s)",
    async sdkTranscribe(dev, audioUrl) {
      const client = new AssemblyAI({ apiKey: dev.apiKey, baseUrl: dev.url });
      const transcript = await client.transcripts.transcribe({ audio_url: audioUrl, speech_models: ["universal-2"] }, { pollingTimeout: JOB_DEADLINE_MS });
      return transcript.id;
    },
    adapter: (dev) => assemblyAIProvider({ apiKey: dev.apiKey, baseUrl: dev.url }),
  },
  {
    provider: "speechmatics",
    factory: "speechmaticsProvider",
    sdk: "@speechmatics/batch-client transcribe() (polls every 3 s)",
    async sdkTranscribe(dev, audioUrl) {
      const client = new BatchClient({ apiKey: dev.apiKey, apiUrl: dev.url, appId: "hookscribe-bench" });
      const result = (await client.transcribe({ url: audioUrl }, { transcription_config: { language: "en" } }, "json-v2", JOB_DEADLINE_MS)) as { job: { id: string } };
      return result.job.id;
    },
    adapter: (dev) => speechmaticsProvider({ apiKey: dev.apiKey, baseUrl: dev.url }),
  },
  {
    provider: "gladia",
    factory: "gladiaProvider",
    sdk: "@gladiaio/sdk transcribe() (polls every 3 s)",
    async sdkTranscribe(dev, audioUrl) {
      const client = new GladiaClient({ apiKey: dev.apiKey, apiUrl: dev.url }).preRecorded();
      const result = await client.transcribe(audioUrl, {}, { interval: 3_000, timeout: JOB_DEADLINE_MS });
      return result.id;
    },
    adapter: (dev) => gladiaProvider({ apiKey: dev.apiKey, baseUrl: dev.url }),
  },
];

export async function sdkPollingVsWebhook(): Promise<SdkRow[]> {
  const rows: SdkRow[] = [];
  for (const contender of CONTENDERS) {
    rows.push(
      await measure(contender.provider, `hookscribe ${contender.factory} (webhook)`, (dev) =>
        hookscribeJobs(contender.adapter(dev), { jobs: JOBS, timeoutMs: JOB_DEADLINE_MS, audioUrl }),
      ),
    );
    rows.push(await measure(contender.provider, contender.sdk, (dev) => concurrentJobs(JOBS, (i) => contender.sdkTranscribe(dev, audioUrl(i)))));
  }
  return rows;
}

async function measure(provider: Contender["provider"], variant: string, run: (dev: DevProvider) => Promise<Resolutions>): Promise<SdkRow> {
  const dev = await startDevProvider({
    dialect: provider,
    processingDelayMs: JOB_MS,
    processingJitterMs: JOB_JITTER_MS,
    engine: fixedTextEngine(TRANSCRIPT_TEXT),
  });
  try {
    const delays = resolutionDelays((jobId) => dev.job(jobId)?.finishedAt, await run(dev), variant);
    return { provider, variant, requestsPerJob: dev.stats.requests / JOBS, delay: distribution(delays) };
  } finally {
    await dev.close();
  }
}

/** Never downloaded: the fixed-text engine answers without fetching the audio. */
function audioUrl(i: number): string {
  return `http://127.0.0.1/bench/sdk-audio-${i}.wav`;
}

export function sdkTable(rows: SdkRow[]): string {
  return renderTable(
    `d. Official SDKs' polling transcribe() vs hookscribe's adapter, per provider dialect: ${JOBS} concurrent jobs of ${JOB_MS / 1000} s ± ${JOB_JITTER_MS / 1000} s; ` +
      "delay = caller's await resolved - provider finished",
    ["provider", "variant", "requests/job", "delay p50 ms", "p99 ms", "mean ms"],
    rows.map((row) => [row.provider, row.variant, num(row.requestsPerJob, 2), num(row.delay.p50, 0), num(row.delay.p99, 0), num(row.delay.mean, 0)]),
    [
      "Each SDK is pointed at the emulator through its base-URL option and used as its README shows. AssemblyAI's webhook is thin:",
      "hookscribe fetches the result once after it; Speechmatics' notification and Gladia's callback carry the transcript.",
    ],
  );
}
