import type { Transcript } from "./domain/transcript.js";
import { ConfigurationError } from "./errors/index.js";
import type { Logger } from "./shared/logger.js";
import type { ResolvedOptions } from "./options.js";
import { Metrics } from "./metrics.js";
import { FileShares } from "./receiver/file-shares.js";
import type { DeliveryInfo } from "./receiver/reply.js";
import { WebhookReceiver } from "./receiver/webhook-receiver.js";
import { type SilenceInfo, SilenceMonitor } from "./silence-monitor.js";
import { FileJobStore } from "./store/file-job-store.js";
import type { JobStore } from "./store/job-store.js";
import { StoreLock } from "./store/store-lock.js";
import { followStoreChanges } from "./store-follower.js";
import type { WaiterRegistry } from "./waiter-registry.js";
import { WebhookIntake } from "./webhook-intake.js";
import { Worker } from "./worker.js";

const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** How often the worker looks for deliveries nobody processes (left by an instance that died). */
const TAKE_OVER_EVERY_MS = 1000;

/** What the running parts tell the client, which turns them into its events. */
interface RuntimeEvents {
  transcript(transcript: Transcript): void;
  silence(info: SilenceInfo): void;
  delivery(info: DeliveryInfo): void;
}

/**
 * The parts of a started client and their order: the store (under its lock), the files lent to
 * providers, the worker, the intake, the receiver, the silence monitor and retention pruning.
 * Built by `start()`; `stopWork()` then `release()` take it down again.
 */
export class Runtime {
  private constructor(
    /** The JSON file's lock; a store given in the options looks after its own sharing. */
    private readonly lock: StoreLock | undefined,
    readonly store: JobStore,
    readonly files: FileShares,
    readonly receiver: WebhookReceiver,
    readonly worker: Worker,
    readonly intake: WebhookIntake,
    private readonly silence: SilenceMonitor,
    private readonly pruneTimer: NodeJS.Timeout,
    private readonly metrics: Metrics,
    private readonly unfollow: () => void,
  ) {}

  static async start(options: ResolvedOptions, waiters: WaiterRegistry, events: RuntimeEvents): Promise<Runtime> {
    const { logger } = options;
    const lock = options.store ? undefined : new StoreLock(options.storePath);
    await lock?.acquire();
    const store: JobStore =
      options.store ??
      new FileJobStore({
        path: options.storePath,
        fsync: options.fsync,
        onBackgroundError: (error) => logger.error({ err: error.message }, "store snapshot failed; the journal keeps the data"),
      });
    // What is started so far, stopped in reverse order when a later step fails.
    const started: (() => unknown)[] = [() => lock?.release(), () => store.close()];
    try {
      await store.open();
      const { provider } = options;
      const files = new FileShares();
      const metrics = new Metrics({ backlog: () => store.unprocessedCount(), pendingJobs: async () => (await store.pendingJobs()).length });
      started.push(() => metrics.stop());
      const worker = new Worker({
        metrics,
        store,
        provider,
        waiters,
        logger,
        files,
        retry: options.retry,
        concurrency: options.concurrency,
        announce: events.transcript,
      });
      started.push(() => worker.drain());
      // Before the receiver takes webhooks: the write of one may be a completion confirmed late.
      const unwatchLate = store.watchLateCompletions?.((ref, transcript) => worker.completedLate(ref, transcript)) ?? (() => undefined);
      started.push(unwatchLate);
      const silence = new SilenceMonitor({
        thresholdMs: options.silenceAlertMs,
        pendingJobs: () => pendingJobs(store),
        onSilence: (info) => {
          logger.warn({ pendingJobs: info.pendingJobs, silentForMs: info.silentForMs }, "no webhook for a while although jobs are pending: is the receiver reachable?");
          events.silence(info);
        },
      });
      const intake = new WebhookIntake({ store, provider, worker, waiters, logger, onWebhook: () => silence.heard() });
      const receiver = new WebhookReceiver(options.receiver, {
        handler: intake,
        files,
        onDelivery: (info) => {
          metrics.delivery(info);
          events.delivery(info);
        },
        logger,
      });
      await listen(receiver, options.receiver);
      started.push(() => receiver.close());
      const prune = () => pruneStore(store, options.retentionMs, logger);
      const pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS).unref();
      started.push(() => clearInterval(pruneTimer));
      await prune();
      silence.start();
      started.push(() => silence.stop());
      const unfollowChanges = followStoreChanges(store, waiters, logger);
      started.push(unfollowChanges);
      const unfollow = () => {
        unfollowChanges();
        unwatchLate();
      };
      const resumed = await worker.resume(TAKE_OVER_EVERY_MS);
      logger.info({ receiverUrl: receiver.url, resumed, store: store.location }, "hookscribe started");
      return new Runtime(lock, store, files, receiver, worker, intake, silence, pruneTimer, metrics, unfollow);
    } catch (error) {
      for (const stop of started.reverse()) await Promise.resolve().then(stop).catch(() => undefined);
      throw error;
    }
  }

  /**
   * New deliveries get `503` (providers retry them later), deliveries in flight finish and the
   * worker drains, so whatever can still resolve does.
   */
  async stopWork(): Promise<void> {
    this.receiver.stopAccepting();
    this.silence.stop();
    clearInterval(this.pruneTimer);
    this.metrics.stop();
    this.unfollow();
    await this.receiver.close();
    await this.worker.drain();
  }

  /** Flushes and closes the store and releases its lock; call after `stopWork()`. */
  async release(): Promise<void> {
    try {
      await this.store.close();
    } finally {
      await this.lock?.release();
    }
  }
}

async function listen(receiver: WebhookReceiver, config: { host: string; port: number }): Promise<void> {
  try {
    await receiver.listen();
  } catch (error) {
    throw new ConfigurationError(
      `The receiver cannot listen on ${config.host}:${config.port}: ${(error as Error).message} (port in use? set receiver.port, or 0 for a free one)`,
      { cause: error },
    );
  }
}

/** Submitted jobs still waiting for their terminal webhook, with when they were submitted. */
async function pendingJobs(store: JobStore): Promise<{ jobId: string; since: number }[]> {
  return (await store.pendingJobs()).map((job) => ({ jobId: job.jobId!, since: job.createdAt }));
}

async function pruneStore(store: JobStore, retentionMs: number, logger: Logger): Promise<void> {
  try {
    const removed = await store.prune(Date.now() - retentionMs);
    if (removed > 0) logger.info({ removed }, "pruned finished jobs past retentionMs");
  } catch (error) {
    logger.error({ err: (error as Error).message }, "pruning the store failed");
  }
}
