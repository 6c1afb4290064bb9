import PQueue from "p-queue";
import { backoffDelay } from "./shared/backoff.js";
import { AbortError, FetchResultError, StoreError, TranscriptionError, UnknownDeadLetterError } from "./errors/index.js";
import { type ProviderEvent, isFinalAnswer } from "./domain/provider-event.js";
import type { Provider } from "./providers/provider.js";
import type { JobStore } from "./store/job-store.js";
import type { DeliveryRecord } from "./store/records.js";
import type { Metrics } from "./metrics.js";
import type { Logger } from "./shared/logger.js";
import { type Transcript, toTranscript } from "./domain/transcript.js";
import type { FileShares } from "./receiver/file-shares.js";
import type { WaiterRegistry } from "./waiter-registry.js";

/** Processing retries of the worker. */
interface RetryPolicy {
  /** Attempts in all, the first included, before an event becomes a dead letter. */
  attempts: number;
  minDelayMs: number;
  maxDelayMs: number;
}

interface WorkerDeps {
  store: JobStore;
  provider: Provider;
  waiters: WaiterRegistry;
  logger: Logger;
  retry: RetryPolicy;
  /** Result fetches at once. */
  concurrency: number;
  /** Called once per job with its transcript (the client emits `'transcript'`). */
  announce: (transcript: Transcript) => void;
  /** Local audio files lent to the provider: a job's share ends once its outcome is known. */
  files: FileShares;
  /** Measures: each processing run, how long it took and how it ended; each new dead letter. */
  metrics: Pick<Metrics, "processed" | "deadLettered">;
}

/**
 * Runs under way at once. A run of a full delivery needs no network: it waits on the store (a
 * transcript file, a journal entry), and writes in flight together share one group commit, so
 * many at once is what lets processing keep up with the receiver. The provider is asked by at
 * most `concurrency` of them at a time.
 */
const RUNS_AT_ONCE = 64;

/**
 * Turns accepted terminal events into results, after the ack: fetch the result of a thin event
 * (once), store the transcript with the job marked processed, resolve waiters, announce it. A
 * failing step is retried with backoff; after `retry.attempts` the event becomes a dead letter.
 * A `completed` event that carries its transcript needs none of this: the intake stores it with
 * the ack, and the worker only announces it.
 */
export class Worker {
  private readonly queue: PQueue;
  /** Requests to the provider (result fetches), `concurrency` at a time. */
  private readonly fetches: PQueue;
  /** Aborted by `drain()`: ends the result fetches in flight. */
  private readonly stopping = new AbortController();
  private readonly scheduled = new Set<string>();
  /** Deliveries waiting out a backoff, with the attempt they will make next. */
  private readonly retryTimers = new Map<string, { timer: NodeJS.Timeout; attempt: number }>();
  /** The run under way (or queued) per delivery id. */
  private readonly runs = new Map<string, Promise<void>>();
  /** The provider job id of each delivery scheduled here, for logs. */
  private readonly jobIds = new Map<string, string>();
  private takeOverTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: WorkerDeps) {
    this.queue = new PQueue({ concurrency: Math.max(deps.concurrency, RUNS_AT_ONCE) });
    this.fetches = new PQueue({ concurrency: deps.concurrency });
  }

  /** Processes a stored delivery; a delivery already queued or waiting for a retry is left alone. */
  enqueue(deliveryId: string): void {
    if (this.stopped || this.scheduled.has(deliveryId)) return;
    this.scheduled.add(deliveryId);
    this.schedule(deliveryId, 1);
  }

  /**
   * Processes a delivery now, whatever its state: waiting out a backoff (the wait is cut short),
   * dead-lettered (on success the dead letter goes, on failure it is updated) or not scheduled at
   * all. Waits for a run of the same delivery that is under way, so one delivery is never
   * processed twice at once. Rejects with the processing error; a delivery that was waiting for a
   * retry then waits again.
   */
  async processNow(deliveryId: string): Promise<void> {
    if (this.stopped) throw new AbortError(undefined, new Error("the client is closing"));
    const waiting = this.retryTimers.get(deliveryId);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.retryTimers.delete(deliveryId);
    }
    try {
      await this.run(deliveryId);
      if (!this.retryTimers.has(deliveryId)) this.scheduled.delete(deliveryId);
    } catch (error) {
      const { store } = this.deps;
      const letter = await store.deadLetter(deliveryId);
      if (waiting) this.retryLater(deliveryId, waiting.attempt - 1, error);
      else if (letter) await store.saveDeadLetter({ ...letter, attempts: letter.attempts + 1, error: messageOf(error), failedAt: Date.now() });
      throw error;
    }
  }

  /**
   * Queues every stored delivery that nobody processes (after a restart, or left by an instance
   * that died), now and then every `everyMs` while the worker runs. Resolves with how many the
   * first look found.
   */
  async resume(everyMs: number): Promise<number> {
    const found = await this.takeOver();
    const look = () => {
      this.takeOverTimer = setTimeout(() => {
        this.takeOver()
          .catch((error: unknown) => this.deps.logger.warn({ err: messageOf(error) }, "could not look for deliveries left unprocessed; will look again"))
          .finally(() => {
            if (!this.stopped) look();
          });
      }, everyMs);
      this.takeOverTimer.unref();
    };
    look();
    return found;
  }

  /** Processes a dead letter once more; on success the dead letter is gone, on failure it is updated. */
  async replay(deadLetterId: string): Promise<void> {
    const { store } = this.deps;
    const letter = await store.deadLetter(deadLetterId);
    if (!letter) throw new UnknownDeadLetterError(deadLetterId, "it was replayed already, or never existed");
    if ((await store.pendingDelivery(letter.ref))?.id !== letter.deliveryId) {
      throw new UnknownDeadLetterError(deadLetterId, "its stored event is gone (its job was pruned)");
    }
    this.jobIds.set(letter.deliveryId, letter.jobId);
    await this.processNow(letter.deliveryId);
    // Nothing was done when another instance sharing the store holds the delivery (it runs it now).
    if (await store.deadLetter(deadLetterId)) {
      throw new UnknownDeadLetterError(deadLetterId, "another instance sharing the store is processing its event right now; look again once it is done");
    }
  }

  /** Stops retries and waits for the running work; what is left is processed on the next start. */
  async drain(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.takeOverTimer);
    for (const { timer } of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    // Result fetches in flight end now; what they were for stays in the inbox for the next start.
    this.stopping.abort(new Error("the client is closing"));
    await this.queue.onIdle();
  }

  private async takeOver(): Promise<number> {
    if (this.stopped) return 0;
    const deliveries = await this.deps.store.takeOver();
    for (const delivery of deliveries) {
      this.jobIds.set(delivery.id, delivery.jobId);
      this.enqueue(delivery.id);
    }
    return deliveries.length;
  }

  private schedule(deliveryId: string, attempt: number): void {
    void this.attempt(deliveryId, attempt);
  }

  /** One run of the worker's own schedule: on failure a retry after a backoff, or a dead letter. */
  private async attempt(deliveryId: string, attempt: number): Promise<void> {
    const { store, logger, retry } = this.deps;
    try {
      await this.run(deliveryId);
      this.forget(deliveryId);
    } catch (error) {
      const jobId = this.jobIds.get(deliveryId);
      if (this.stopped) {
        this.forget(deliveryId);
        return;
      }
      if (error instanceof StoreError && !store.healthy()) {
        // The store could not write: not this delivery's failure, so it costs no attempt and is
        // never dead-lettered; it runs again once the store takes writes again.
        logger.warn({ jobId, err: messageOf(error) }, "processing failed because the store cannot write; will retry once it can");
        void store.whenHealthy().then(() => {
          if (!this.stopped) this.schedule(deliveryId, attempt);
        });
        return;
      }
      if (attempt >= retry.attempts) {
        this.forget(deliveryId);
        logger.error({ jobId, attempts: attempt, err: messageOf(error) }, "processing failed; event dead-lettered");
        await this.deadLetter(deliveryId, attempt, error);
        return;
      }
      this.retryLater(deliveryId, attempt, error);
    }
  }

  private forget(deliveryId: string): void {
    this.scheduled.delete(deliveryId);
    this.jobIds.delete(deliveryId);
  }

  /** Schedules attempt `failedAttempt + 1` after a backoff. */
  private retryLater(deliveryId: string, failedAttempt: number, error: unknown): void {
    const { retry, logger } = this.deps;
    const delayMs = Math.round(backoffDelay(failedAttempt, retry.minDelayMs, retry.maxDelayMs));
    logger.warn({ jobId: this.jobIds.get(deliveryId), attempt: failedAttempt, delayMs, err: messageOf(error) }, "processing failed; will retry");
    const timer = setTimeout(() => {
      this.retryTimers.delete(deliveryId);
      this.schedule(deliveryId, failedAttempt + 1);
    }, delayMs);
    this.retryTimers.set(deliveryId, { timer, attempt: failedAttempt + 1 });
  }

  /**
   * Processes the stored delivery in the pool, after any run of the same delivery under way: a
   * second run then finds the job processed, or the delivery gone, and does nothing.
   */
  private run(deliveryId: string): Promise<void> {
    const previous = this.runs.get(deliveryId) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() =>
        this.queue.add(async () => {
          // Runs still queued at close are left for the next start: close waits only for those under way.
          if (this.stopped) return;
          // Gone (processed meanwhile), or another instance of a shared store works on it.
          const delivery = await this.deps.store.claim(deliveryId);
          if (!delivery) return;
          this.jobIds.set(deliveryId, delivery.jobId);
          const started = performance.now();
          try {
            await this.process(delivery);
          } catch (error) {
            this.deps.metrics.processed(performance.now() - started, "failed", "worker");
            throw error;
          }
          this.deps.metrics.processed(performance.now() - started, delivery.event.status === "error" ? "error" : "completed", "worker");
        }),
      );
    this.runs.set(deliveryId, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        if (this.runs.get(deliveryId) === next) this.runs.delete(deliveryId);
      });
    return next;
  }

  private async deadLetter(deliveryId: string, attempts: number, error: unknown): Promise<void> {
    // A run started meanwhile (the status check at a deadline) may have finished the job.
    const delivery = await this.deps.store.claim(deliveryId).catch(() => undefined);
    if (!delivery) return;
    this.deps.metrics.deadLettered();
    await this.deps.store
      .saveDeadLetter({
        id: delivery.id,
        deliveryId: delivery.id,
        ref: delivery.ref,
        jobId: delivery.jobId,
        error: messageOf(error),
        attempts,
        failedAt: Date.now(),
      })
      .catch((storeError: unknown) => {
        // Still unprocessed in the inbox: the next start() picks it up again.
        this.deps.logger.error({ jobId: delivery.jobId, err: messageOf(storeError) }, "could not store the dead letter");
      });
  }

  private async process(delivery: DeliveryRecord): Promise<void> {
    const { store, waiters, logger } = this.deps;
    const job = await store.job(delivery.ref);
    if (!job || job.processed) {
      if (!job) logger.warn({ jobId: delivery.jobId }, "event for a job no longer in the store; dropped");
      await store.completeDelivery(delivery.id, { kind: "already-processed" }, Date.now());
      return;
    }
    const event = await this.completeEvent(delivery);
    if (event.status === "error") {
      // A thin "completed" whose fetch says "error" ends as an error too, so the job reads consistently.
      if (!(await store.completeDelivery(delivery.id, { kind: "error", error: event.error }, Date.now()))) return;
      this.deps.files.revoke(delivery.ref);
      logger.info({ jobId: delivery.jobId }, "provider reported the job failed");
      waiters.reject(delivery.ref, new TranscriptionError(delivery.jobId, event.error));
      return;
    }
    if (!event.result) throw new FetchResultError(delivery.jobId, `Provider answered status "${event.status}" for a job its webhook said was completed`);
    const transcript = toTranscript(event.jobId, job.provider, event.result, event.raw);
    // Stored and marked processed in one step; `false`: another instance took the delivery over.
    if (!(await store.completeDelivery(delivery.id, { kind: "completed", transcript }, Date.now()))) return;
    this.announceStored(delivery.ref, transcript);
  }

  /**
   * A full answer the intake stored with the job marked processed as it acked it: there is no
   * delivery to process, only the announcement a processed one gets.
   */
  storedOnReceipt(ref: string, transcript: Transcript, durationMs: number): void {
    this.deps.metrics.processed(durationMs, "completed", "receipt");
    this.announceStored(ref, transcript);
  }

  /**
   * A transcript this instance stored with its job marked processed although the write failed
   * for it (the database committed it, and the answer was lost with the connection): announced
   * now, once. Whatever retried that write (the worker's next attempt, the provider's redelivery)
   * found the job done and announced nothing.
   */
  completedLate(ref: string, transcript: Transcript): void {
    this.announceStored(ref, transcript);
  }

  /**
   * Called once the transcript is durable with the job marked processed, with no I/O in between
   * (or, for a completion confirmed late, as soon as the store learns it): whoever is told can
   * read it back from the store, and a retry or another instance never finds the job unprocessed
   * after its announcement. Only the write that marked the job processed leads here, so a job is
   * announced once.
   */
  private announceStored(ref: string, transcript: Transcript): void {
    this.deps.files.revoke(ref);
    this.deps.waiters.resolve(ref, transcript);
    this.deps.announce(transcript);
    this.deps.logger.info({ jobId: transcript.jobId, words: transcript.words.length }, "transcript stored");
  }

  /**
   * The delivery's event with what a thin one lacks: the result of a `completed` one (fetched, or
   * the job cannot finish), the failure message of an `error` one (AssemblyAI and Rev.ai send none;
   * without it the job still ends as failed, only with a less helpful message).
   */
  private async completeEvent(delivery: DeliveryRecord): Promise<ProviderEvent> {
    const { event } = delivery;
    if (event.status === "completed" && !event.result) return this.fetchOnce(delivery);
    if (event.status !== "error" || event.error !== undefined || !this.deps.provider.fetchResult) return event;
    try {
      const fetched = await this.fetchOnce(delivery);
      return fetched.status === "error" ? { ...event, error: fetched.error } : event;
    } catch (error) {
      this.deps.logger.warn({ jobId: delivery.jobId, err: messageOf(error) }, "could not fetch the provider's failure message; the job ends as failed without it");
      return event;
    }
  }

  /** Fetches a thin event's result, keeping it with the delivery so no retry or restart fetches again. */
  private async fetchOnce(delivery: DeliveryRecord): Promise<ProviderEvent> {
    if (delivery.fetched) return delivery.fetched;
    const { provider, store } = this.deps;
    if (!provider.fetchResult) {
      throw new FetchResultError(delivery.jobId, `Provider ${provider.name} sent a webhook without the transcript and cannot fetch results`);
    }
    // One request per attempt: the worker's attempts are the whole retry budget of a result fetch.
    const fetchResult = provider.fetchResult.bind(provider);
    const fetched = await this.fetches.add(() => fetchResult(delivery.jobId, { retry: false, signal: this.stopping.signal }));
    if (fetched.jobId !== delivery.jobId) throw new FetchResultError(delivery.jobId, `Fetched result is for job ${fetched.jobId}, not ${delivery.jobId}`);
    // Only a final answer is kept: a result endpoint that lags the webhook ("processing") must be
    // asked again on the next attempt. Not awaited: if keeping it fails, the worst is one more
    // fetch on a later attempt.
    if (isFinalAnswer(fetched)) store.keepFetchedResult(delivery.id, fetched).catch(() => undefined);
    return fetched;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
