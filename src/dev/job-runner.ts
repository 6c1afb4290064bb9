import { setTimeout as delay } from "node:timers/promises";
import { isTerminal } from "../domain/job-status.js";
import type { Logger } from "../shared/logger.js";
import { describeIssues } from "../validation/describe-issues.js";
import type { EmulatedJob, JobOutcome, WebhookStatus } from "./dev-job.js";
import type { ResolvedFaults } from "./dev-provider-options.js";
import type { DevProviderStats } from "./dev-provider-stats.js";
import type { Dialect } from "./dialect.js";
import { HttpError } from "./http-io.js";
import { type EngineContext, engineResultSchema, type TranscriptEngine, toJobResult } from "./transcript-engine.js";
import type { WebhookSender } from "./webhook-sender.js";

interface JobRunnerConfig<R> {
  dialect: Dialect<R>;
  engine: TranscriptEngine;
  engineContext: EngineContext;
  processingDelayMs: number;
  processingJitterMs: number;
  sendProcessingWebhook: boolean;
  faults: ResolvedFaults;
  sender: WebhookSender;
  stats: DevProviderStats;
  logger: Logger;
}

const SIMULATED_FAILURE = "Simulated failure: the dev provider's faults.errorResult is set";

/** Takes an accepted job to its end and sends its webhooks, in order, with the configured faults. */
export class JobRunner<R> {
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly config: JobRunnerConfig<R>) {}

  private get signal(): AbortSignal {
    return this.config.engineContext.signal;
  }

  /** The normal life: `processing` at once, finished `processingDelayMs` after the submit. */
  start(job: EmulatedJob<R>): void {
    this.track(this.run(job));
  }

  /**
   * For `faults.webhookBeforeSubmitResponse`: finishes the job now and resolves once the first
   * attempt of its terminal webhook is answered, so the submit can be answered after it.
   */
  async finishBeforeAnswer(job: EmulatedJob<R>): Promise<void> {
    this.finish(job, await this.transcribe(job));
    await new Promise<void>((attempted) => this.queueTerminalWebhooks(job, attempted));
  }

  /** Sends a finished job's terminal webhook again now, superseding a round still waiting to retry. */
  redeliver(job: EmulatedJob<R>): Promise<void> {
    const { status } = job;
    if (!isTerminal(status)) {
      throw new HttpError(409, `Job ${job.jobId} is ${status}: it has no terminal webhook to redeliver yet`);
    }
    this.config.stats.redeliveries++;
    const done = this.deliver(job, status);
    this.track(done);
    return done;
  }

  /** Resolves once every job task and delivery has stopped; after the close signal that is prompt. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.tasks]);
  }

  private processingTime(): number {
    const { processingDelayMs, processingJitterMs } = this.config;
    return Math.max(0, processingDelayMs + (Math.random() * 2 - 1) * processingJitterMs);
  }

  private async run(job: EmulatedJob<R>): Promise<void> {
    job.status = "processing";
    if (this.config.sendProcessingWebhook && !this.config.faults.outOfOrder) this.queueWebhook(job, "processing");
    const [outcome] = await Promise.all([
      this.transcribe(job),
      delay(this.processingTime(), undefined, { signal: this.signal }),
    ]);
    this.finish(job, outcome);
    this.queueTerminalWebhooks(job);
  }

  private finish(job: EmulatedJob<R>, outcome: JobOutcome): void {
    job.outcome = outcome;
    job.status = outcome.status;
    job.finishedAt = Date.now();
    this.config.logger.debug({ jobId: job.jobId, status: job.status }, "dev provider job finished");
  }

  private queueTerminalWebhooks(job: EmulatedJob<R>, onFirstAttempt?: () => void): void {
    if (!isTerminal(job.status)) return;
    this.queueWebhook(job, job.status, onFirstAttempt);
    if (this.config.faults.outOfOrder) this.queueWebhook(job, "processing");
  }

  private queueWebhook(job: EmulatedJob<R>, status: WebhookStatus, onFirstAttempt?: () => void): void {
    job.deliveryQueue = job.deliveryQueue.then(() => this.deliver(job, status, onFirstAttempt));
    this.track(job.deliveryQueue);
  }

  /** One message, plus the duplicates `faults.duplicateDeliveries` asks for once it got through. */
  private async deliver(job: EmulatedJob<R>, status: WebhookStatus, onFirstAttempt?: () => void): Promise<void> {
    if (this.signal.aborted) {
      onFirstAttempt?.(); // a submit may be waiting for it
      return;
    }
    const webhook = this.config.dialect.webhook(job, status, this.config.faults.thinPayloads);
    if (!webhook) {
      onFirstAttempt?.();
      return;
    }
    const message = { ...webhook, jobId: job.jobId, status };
    const delivery = (job.deliveries[status] ??= { attempts: 0, state: "pending", round: 0 });
    for (let copy = 0; copy <= this.config.faults.duplicateDeliveries; copy++) {
      if ((await this.config.sender.deliver(message, delivery, onFirstAttempt)) !== "delivered") return;
    }
  }

  private async transcribe(job: EmulatedJob<R>): Promise<JobOutcome> {
    const { audioUrl } = job.submission;
    try {
      if (this.failsOnPurpose(audioUrl)) return { status: "error", error: SIMULATED_FAILURE };
      const parsed = engineResultSchema.safeParse(await this.config.engine(audioUrl, this.config.engineContext));
      if (!parsed.success) {
        return { status: "error", error: `The transcript engine returned an invalid result: ${describeIssues(parsed.error)}` };
      }
      return { status: "completed", result: toJobResult(parsed.data, job.submission.language) };
    } catch (error) {
      // Closing is not the job's failure: leave it unfinished rather than report an error nobody caused.
      if (this.signal.aborted) throw error;
      return { status: "error", error: error instanceof Error ? error.message : String(error) };
    }
  }

  private failsOnPurpose(audioUrl: string): boolean {
    const { errorResult } = this.config.faults;
    return typeof errorResult === "function" ? errorResult(audioUrl) : errorResult;
  }

  /** Keeps `task` until it settles, so close can wait for it; its failure after close is expected. */
  private track(task: Promise<void>): void {
    const tracked: Promise<void> = task
      .catch((error: unknown) => {
        if (!this.signal.aborted) this.config.logger.error({ err: error }, "dev provider task failed");
      })
      .finally(() => this.tasks.delete(tracked));
    this.tasks.add(tracked);
  }
}
