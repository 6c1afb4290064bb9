import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Provider, Transcriber, signHmacHex } from "hookscribe";

/** Summary of a set of samples, in ms. */
export interface Distribution {
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of ascending `sorted`: the smallest sample with at least `p`% at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function distribution(samples: readonly number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** The transcript every benchmark job produces. */
export const TRANSCRIPT_TEXT = "the quick brown fox jumps over the lazy dog";

/** One webhook POST, built and signed before the clock starts so signing is not measured. */
export interface Delivery {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * A full `completed` webhook of the reference protocol (the transcript travels in the body, so
 * the receiver fetches nothing), signed with the reference protocol's `X-Webhook-Signature` scheme.
 */
export function signedCompletedDelivery(secret: string, path: string, jobId: string): Delivery {
  const words = TRANSCRIPT_TEXT.split(" ").map((text, index) => ({ text, start: index * 0.4, end: (index + 1) * 0.4, confidence: 1 }));
  const body = JSON.stringify({ job_id: jobId, status: "completed", text: TRANSCRIPT_TEXT, words, language: "en", duration: words.length * 0.4 });
  return {
    path,
    body,
    headers: {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "x-webhook-signature": signHmacHex(secret, body),
    },
  };
}

export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `hookscribe-bench-${label}-`));
}

/** When each job's await resolved, by the emulator's job id. */
export type Resolutions = { jobId: string; resolvedAt: number }[];

/** `jobs` jobs started at once by `run(i)`, which resolves with the job's id once the job is done. */
export function concurrentJobs(jobs: number, run: (i: number) => Promise<string>): Promise<Resolutions> {
  return Promise.all(
    Array.from({ length: jobs }, async (_, i) => {
      const jobId = await run(i);
      return { jobId, resolvedAt: Date.now() };
    }),
  );
}

/** One client of `provider`, `jobs` `transcribe()` calls at once; a job counts as resolved when its await returns. */
export async function hookscribeJobs(provider: Provider, options: { jobs: number; timeoutMs: number; audioUrl: (i: number) => string }): Promise<Resolutions> {
  const dir = await tempDir("transcribe");
  const client = new Transcriber({ provider, receiver: { port: 0 }, storePath: join(dir, "store.json"), timeoutMs: options.timeoutMs });
  try {
    // Started before the jobs, as a long-running application's client would be.
    await client.start();
    return await concurrentJobs(options.jobs, async (i) => (await client.transcribe(options.audioUrl(i))).jobId);
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** How long after the emulator finished each job (`finishedAt(jobId)`) its await resolved, ms; `variant` names the run in the error for a job the emulator has not finished. */
export function resolutionDelays(finishedAtOf: (jobId: string) => number | undefined, resolutions: Resolutions, variant: string): number[] {
  return resolutions.map(({ jobId, resolvedAt }) => {
    const finishedAt = finishedAtOf(jobId);
    if (finishedAt === undefined) throw new Error(`${variant}: job ${jobId} resolved but the emulator has not finished it`);
    return resolvedAt - finishedAt;
  });
}
