import type { ProviderJobStatus } from "../domain/job-status.js";
import type { JobResult } from "./transcript-engine.js";

/** What the emulator keeps of a submit, whatever the dialect; `request` is the dialect's own parsed body. */
export interface JobSubmission<R> {
  audioUrl: string;
  /**
   * Where the job's webhooks go, and the headers the submit asked to be echoed with them;
   * `undefined` for a job submitted without one (an SDK that polls), which gets no webhook.
   */
  webhook?: { url: string; method: "POST" | "PUT"; headers: Record<string, string> };
  /** The language the submit asked for, if any: an engine's result gets it when it names none. */
  language?: string;
  request: R;
}

/** A job's status as the emulator reports it. `completed` and `error` are terminal. */
export type DevJobStatus = ProviderJobStatus;

/** The statuses a webhook announces (nobody is told about `queued`: the submit answer says it). */
export type WebhookStatus = Exclude<DevJobStatus, "queued">;

/** How far one webhook message got. */
export interface DevDelivery {
  /** HTTP attempts for this message so far, retries, duplicates and redeliveries included. */
  attempts: number;
  /**
   * `pending` while attempts or retry waits are under way; then `delivered` (a 2xx), `failed`
   * (a 4xx: never retried) or `dead_letter` (still failing when the retry schedule ran out).
   */
  state: "pending" | "delivered" | "failed" | "dead_letter";
  /** Why the last failed attempt failed, e.g. `HTTP 503` or `no answer within 30000 ms`. */
  lastError?: string;
}

/** A snapshot of one job, as `DevProvider.jobs()` returns it. */
export interface DevJob {
  jobId: string;
  audioUrl: string;
  /** `undefined` for a job submitted without a webhook. */
  webhookUrl?: string;
  status: DevJobStatus;
  /** When the submit created the job (ms since the epoch). */
  createdAt: number;
  /** When the job reached `completed` or `error` (ms since the epoch); webhook latency counts from here. */
  finishedAt?: number;
  /** The failure message of a job that ended in `error`. */
  error?: string;
  /** One entry per webhook message sent (or being sent) for this job. */
  deliveries: Partial<Record<WebhookStatus, DevDelivery>>;
}

/** A webhook message the emulator gave up on after its whole retry schedule. */
export interface DevDeadLetter {
  jobId: string;
  status: WebhookStatus;
  attempts: number;
  lastError: string;
}

export type JobOutcome = { status: "completed"; result: JobResult } | { status: "error"; error: string };

/** A delivery as the emulator tracks it; `DevDelivery` is its public part. */
export interface EmulatedDelivery extends DevDelivery {
  /** Bumped by every new delivery round; an older round still waiting to retry sees it and stops. */
  round: number;
}

/** A job as the emulator keeps it, `R` being its dialect's submit body; `DevJob` is its public snapshot. */
export interface EmulatedJob<R = unknown> {
  jobId: string;
  submission: JobSubmission<R>;
  status: DevJobStatus;
  createdAt: number;
  finishedAt?: number;
  outcome?: JobOutcome;
  deliveries: Partial<Record<WebhookStatus, EmulatedDelivery>>;
  /** Each message's delivery chains on the previous one, so one job's statuses arrive in order. */
  deliveryQueue: Promise<void>;
}

export function snapshotJob(job: EmulatedJob): DevJob {
  const deliveries: DevJob["deliveries"] = {};
  for (const [status, { attempts, state, lastError }] of deliveryEntries(job)) {
    deliveries[status] = lastError === undefined ? { attempts, state } : { attempts, state, lastError };
  }
  return {
    jobId: job.jobId,
    audioUrl: job.submission.audioUrl,
    webhookUrl: job.submission.webhook?.url,
    status: job.status,
    createdAt: job.createdAt,
    ...(job.finishedAt === undefined ? {} : { finishedAt: job.finishedAt }),
    ...(job.outcome?.status === "error" ? { error: job.outcome.error } : {}),
    deliveries,
  };
}

export function deadLettersOf(job: EmulatedJob): DevDeadLetter[] {
  return deliveryEntries(job)
    .filter(([, delivery]) => delivery.state === "dead_letter")
    .map(([status, delivery]) => ({
      jobId: job.jobId,
      status,
      attempts: delivery.attempts,
      lastError: delivery.lastError ?? "unknown",
    }));
}

function deliveryEntries(job: EmulatedJob): [WebhookStatus, EmulatedDelivery][] {
  return Object.entries(job.deliveries) as [WebhookStatus, EmulatedDelivery][];
}
