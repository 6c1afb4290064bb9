import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signHmacHex } from "hookscribe";

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
