/** Where a job is in its life. `completed` and `error` are terminal: once reached, nothing changes them. */
export type JobStatus = "submitting" | "queued" | "processing" | "completed" | "error";

/** A status a provider can report for a job (everything but our local `submitting`). */
export type ProviderJobStatus = Exclude<JobStatus, "submitting">;

const STATUS_RANK: Record<JobStatus, number> = {
  submitting: 0,
  queued: 1,
  processing: 2,
  completed: 3,
  error: 3,
};

/** Statuses only move forward: `submitting < queued < processing < completed | error`. */
export function isStatusAdvance(from: JobStatus, to: JobStatus): boolean {
  return STATUS_RANK[to] > STATUS_RANK[from];
}

export function isTerminal(status: JobStatus): status is "completed" | "error" {
  return STATUS_RANK[status] === 3;
}

/** One recognised word. Times are in seconds from the start of the audio. */
export interface Word {
  text: string;
  start: number;
  end: number;
  /** 0..1, when the provider reports it. */
  confidence?: number;
  /** Speaker label, when the provider diarises. */
  speaker?: string;
}

/** The result a `TranscriptionJob` resolves with, the same for every provider. */
export interface Transcript {
  jobId: string;
  /** The provider's `name`, e.g. `"generic"`. */
  provider: string;
  status: "completed";
  text: string;
  words: Word[];
  /** Language code, when the provider reports it. */
  language?: string;
  /** Length of the audio in seconds, when the provider reports it. */
  durationSec?: number;
  /** The provider's own payload, untouched. */
  raw: unknown;
}

/** Payload of the `'silence'` event. */
export interface SilenceInfo {
  /** How many submitted jobs are still waiting for their terminal webhook. */
  pendingJobs: number;
  /** Provider job ids of those jobs (at most 20). */
  jobIds: string[];
  /** Milliseconds since the last webhook arrived, or since the oldest pending job was submitted. */
  silentForMs: number;
  /** When the last webhook arrived, if any arrived in this process. */
  lastWebhookAt?: Date;
}

/**
 * A pino-compatible logger. Every entry about a job carries `jobId`; entries never carry
 * secrets, webhook tokens or transcript text.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A failed processing attempt that exhausted its retries. `replay(id)` tries it again. */
export interface DeadLetter {
  id: string;
  jobId: string;
  /** The last error's message. */
  error: string;
  attempts: number;
  failedAt: Date;
}
