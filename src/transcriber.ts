import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { ZodError } from "zod";
import { describeIssues } from "./describe-issues.js";
import { AbortError, ConfigurationError, StoreError, TranscriptionError, TranscriptionTimeoutError, UnknownJobError } from "./errors/index.js";
import { type JobControl, TranscriptionJob } from "./job.js";
import { type JobSummary, summarise, toJobSummary } from "./job-summary.js";
import { silentLogger } from "./logger.js";
import { type ResolvedOptions, type TranscriberOptions, transcriberOptionsSchema } from "./options.js";
import { WebhookReceiver } from "./receiver/webhook-receiver.js";
import { hashToken, newRef, newToken, webhookUrl } from "./receiver/webhook-route.js";
import { SilenceMonitor } from "./silence-monitor.js";
import { FileJobStore } from "./store/file-job-store.js";
import { StoreLock } from "./store/store-lock.js";
import type { JobRecord } from "./store/records.js";
import { type DeadLetter, type JobStatus, type Logger, type SilenceInfo, type Transcript, isStatusAdvance } from "./types.js";
import { WaiterRegistry } from "./waiter-registry.js";
import { WebhookIntake } from "./webhook-intake.js";
import { Worker, transcriptFrom } from "./worker.js";

/** Options of one `transcribe()` call. */
export interface TranscribeOptions {
  /** Language code passed to the provider, e.g. `"en"`. Default: the provider detects it. */
  language?: string;
  /** Free-form data passed to the provider with the job. */
  metadata?: Record<string, unknown>;
  /** Stop waiting (and cancel a submit in flight) when this signal aborts. */
  signal?: AbortSignal;
  /** Deadline for this job in ms; `0` waits forever. Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Called on every status change of the job. */
  onStatus?: (status: JobStatus, jobId: string | undefined) => void;
}

/** Options of `client.job(id)`. */
export type JobOptions = Pick<TranscribeOptions, "signal" | "timeoutMs" | "onStatus">;

/** Events a `Transcriber` emits. */
export interface TranscriberEvents {
  /** Once per job, when its transcript is stored. */
  transcript: [transcript: Transcript];
  /** Jobs are pending and no webhook arrived for `silenceAlertMs`. */
  silence: [info: SilenceInfo];
}

/** The parts that exist while the client is started. */
interface Running {
  lock: StoreLock;
  store: FileJobStore;
  receiver: WebhookReceiver;
  worker: Worker;
  intake: WebhookIntake;
  silence: SilenceMonitor;
  pruneTimer: NodeJS.Timeout;
}

/** Where a job's audio comes from: a URL as given, or a local file lent by the receiver. */
interface AudioSource {
  /** The URL the provider downloads, for the job with local ref `ref`. */
  url(ref: string): string | Promise<string>;
  /** The provider did not take the job: stop offering its audio. */
  release(ref: string): void;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * `await client.transcribe(url)`: submits a job whose webhook points at the receiver embedded in
 * this process and resolves when the verified webhook arrives. Wires the store, the receiver, the
 * worker and the provider together.
 */
export class Transcriber extends EventEmitter<TranscriberEvents> {
  private readonly options: ResolvedOptions;
  private readonly logger: Logger;
  private readonly waiters = new WaiterRegistry();
  private running: Running | undefined;
  private starting: Promise<Running> | undefined;
  private closing: Promise<void> | undefined;
  /** Aborted by `close()`: ends every handle's run (submit, wait, status check) with an `AbortError`. */
  private closeController = new AbortController();
  /** Runs of handles still going, so `close()` can wait for them before closing the store. */
  private readonly runs = new Set<Promise<Transcript>>();

  constructor(options: TranscriberOptions) {
    super();
    try {
      this.options = transcriberOptionsSchema.parse(options);
    } catch (error) {
      throw error instanceof ZodError ? new ConfigurationError(`Invalid Transcriber options: ${describeIssues(error)}`) : error;
    }
    this.logger = this.options.logger ?? silentLogger;
  }

  /** `http://host:port` of the receiver once it listens; `undefined` before `start()`. */
  get receiverUrl(): string | undefined {
    return this.running?.receiver.url;
  }

  /** Opens the store, starts the receiver and resumes unprocessed events. Idempotent. */
  async start(): Promise<void> {
    await this.ensureStarted();
  }

  /** Submits `audioUrl` and returns a handle that resolves with the transcript. */
  transcribe(audioUrl: string, options: TranscribeOptions = {}): TranscriptionJob {
    return this.handle((control) => this.runTranscription({ url: () => audioUrl, release: () => undefined }, options, control), options);
  }

  /**
   * Transcribes a local file: the receiver serves it to the provider under a one-time,
   * unguessable URL until the job is done (404 afterwards), so no upload service is needed.
   * The provider must reach the receiver, as for webhooks.
   */
  transcribeFile(path: string, options: TranscribeOptions = {}): TranscriptionJob {
    return this.handle(async (control) => {
      const { receiver } = await this.ensureStarted();
      const base = (this.options.receiver.publicUrl ?? receiver.url).replace(/\/+$/, "");
      return this.runTranscription(
        { url: async (ref) => `${base}${await receiver.files.share(path, ref)}`, release: (ref) => receiver.files.revoke(ref) },
        options,
        control,
      );
    }, options);
  }

  /** Jobs in the store, newest first, optionally with one status. */
  async jobs(filter: { status?: JobStatus } = {}): Promise<JobSummary[]> {
    const { store } = await this.ensureStarted();
    return summarise(store.jobs(), filter);
  }

  /** One stored job and, once it is done, its transcript; never waits. Unknown ids reject with `UnknownJobError`. */
  async inspect(jobId: string): Promise<JobSummary & { transcript?: Transcript }> {
    const { store } = await this.ensureStarted();
    const job = store.jobByProviderId(this.options.provider.name, jobId);
    if (!job) throw new UnknownJobError(jobId, store.path);
    const transcript = job.processed && job.status === "completed" ? await this.storedOutcome(store, job) : undefined;
    return { ...toJobSummary(job), transcript };
  }

  /** A handle for a job submitted earlier, also by an earlier process using the same store. */
  job(jobId: string, options: JobOptions = {}): TranscriptionJob {
    return this.handle((control) => this.runExistingJob(jobId, options, control), { ...options, jobId, status: "queued" });
  }

  /** A handle whose run `close()` can end and wait for. */
  private handle(
    run: (control: JobControl) => Promise<Transcript>,
    options: Pick<TranscribeOptions, "signal" | "onStatus"> & { jobId?: string; status?: JobStatus },
  ): TranscriptionJob {
    const closed = this.closeController.signal;
    return new TranscriptionJob(
      (control) => {
        const result = run(control);
        this.runs.add(result);
        result.catch(() => undefined).finally(() => this.runs.delete(result));
        return result;
      },
      { ...options, signal: options.signal ? AbortSignal.any([options.signal, closed]) : closed },
    );
  }

  /** Events whose processing failed `retry.attempts` times. */
  async deadLetters(): Promise<DeadLetter[]> {
    const { store } = await this.ensureStarted();
    return store.deadLetters().map(({ id, jobId, error, attempts, failedAt }) => ({ id, jobId, error, attempts, failedAt: new Date(failedAt) }));
  }

  /** Processes a dead letter again; resolves once it succeeded (the dead letter is then gone). */
  async replay(deadLetterId: string): Promise<void> {
    const { worker } = await this.ensureStarted();
    await worker.replay(deadLetterId);
  }

  /**
   * Graceful shutdown: new deliveries get `503` (providers retry them later), deliveries in
   * flight finish, the worker drains, waiting handles reject with an `AbortError`, the store is
   * flushed. Jobs stay in the store for the next start.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const running = await this.starting?.catch(() => undefined);
    if (!running) return;
    running.receiver.stopAccepting();
    running.silence.stop();
    clearInterval(running.pruneTimer);
    // Deliveries in flight finish and the worker drains, so what can still resolve does; then the
    // remaining handles reject with an AbortError and their runs (a submit in flight included) end
    // before the store closes.
    await running.receiver.close();
    await running.worker.drain();
    this.closeController.abort(new Error("the client was closed"));
    await Promise.allSettled([...this.runs]);
    await running.store.close();
    await running.lock.release();
    this.running = undefined;
    this.starting = undefined;
    this.closeController = new AbortController();
    this.logger.info({}, "hookscribe closed");
  }

  private ensureStarted(): Promise<Running> {
    if (this.closing) return Promise.reject(new ConfigurationError("The client is closing; call start() again after close() resolves"));
    this.starting ??= this.startParts().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async startParts(): Promise<Running> {
    const lock = new StoreLock(this.options.storePath);
    await lock.acquire();
    try {
      return await this.startWithLock(lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private async startWithLock(lock: StoreLock): Promise<Running> {
    const { options, logger, waiters } = this;
    const { provider } = options;
    const store = new FileJobStore({
      path: options.storePath,
      fsync: options.fsync,
      onBackgroundError: (error) => logger.error({ err: error.message }, "store snapshot failed; the journal keeps the data"),
    });
    await store.open();
    const worker = new Worker({
      store,
      provider,
      waiters,
      logger,
      retry: options.retry,
      concurrency: options.concurrency,
      announce: (transcript) => this.announce(transcript),
      onFinished: (ref) => receiver.files.revoke(ref),
    });
    const silence = new SilenceMonitor({
      thresholdMs: options.silenceAlertMs,
      pendingJobs: () =>
        store
          .jobs()
          .filter((job) => job.jobId !== undefined && (job.status === "queued" || job.status === "processing"))
          .map((job) => ({ jobId: job.jobId!, since: job.createdAt })),
      onSilence: (info) => {
        logger.warn({ pendingJobs: info.pendingJobs, silentForMs: info.silentForMs }, "no webhook for a while although jobs are pending: is the receiver reachable?");
        this.emit("silence", info);
      },
    });
    const intake = new WebhookIntake({ store, provider, worker, waiters, logger, onWebhook: () => silence.heard() });
    const receiver = new WebhookReceiver(options.receiver, intake.handle, logger);
    try {
      await receiver.listen();
    } catch (error) {
      await store.close();
      throw new ConfigurationError(
        `The receiver cannot listen on ${options.receiver.host}:${options.receiver.port}: ${(error as Error).message} ` +
          "(port in use? set receiver.port, or 0 for a free one)",
        { cause: error },
      );
    }
    const pruneTimer = setInterval(() => void this.prune(store), PRUNE_EVERY_MS).unref();
    await this.prune(store);
    silence.start();
    const resumed = worker.resume();
    this.running = { lock, store, receiver, worker, intake, silence, pruneTimer };
    logger.info({ receiverUrl: receiver.url, resumed, store: store.path }, "hookscribe started");
    return this.running;
  }

  private async prune(store: FileJobStore): Promise<void> {
    try {
      const removed = await store.prune(Date.now() - this.options.retentionMs);
      if (removed > 0) this.logger.info({ removed }, "pruned finished jobs past retentionMs");
    } catch (error) {
      this.logger.error({ err: (error as Error).message }, "pruning the store failed");
    }
  }

  private announce(transcript: Transcript): void {
    try {
      this.emit("transcript", transcript);
    } catch (error) {
      // A listener's bug must not make the worker retry (and announce) the job again.
      this.logger.error({ jobId: transcript.jobId, err: (error as Error).message }, "a 'transcript' listener threw");
    }
  }

  private async runTranscription(audio: AudioSource, options: TranscribeOptions, control: JobControl): Promise<Transcript> {
    const deadline = new Deadline(options.timeoutMs ?? this.options.timeoutMs);
    let unregister: (() => void) | undefined;
    try {
      const running = await this.ensureStarted();
      const { store, receiver } = running;
      const { provider, receiver: receiverOptions } = this.options;
      const publicUrl = receiverOptions.publicUrl ?? receiver.url;
      assertReachable(provider.baseUrl, publicUrl);
      const ref = newRef();
      const audioUrl = await audio.url(ref);
      assertAudioUrl(audioUrl);

      const token = newToken();
      const now = Date.now();
      const record: JobRecord = { ref, provider: provider.name, status: "submitting", tokenHash: hashToken(token), createdAt: now, updatedAt: now, processed: false };
      // Waiter and record exist before the URL leaves the process: a webhook may beat the submit's answer.
      const outcome = this.waitFor(ref, control);
      unregister = outcome.unregister;
      await store.saveJob(record);

      let jobId: string;
      try {
        ({ jobId } = await provider.submit(
          { audioUrl, webhookUrl: webhookUrl(publicUrl, receiverOptions.path, { provider: provider.name, ref, token }), language: options.language, metadata: options.metadata },
          { idempotencyKey: randomUUID(), signal: AbortSignal.any([control.signal, deadline.signal]) },
        ));
      } catch (error) {
        // The provider never took the job, so nobody will fetch its audio.
        audio.release(ref);
        if (deadline.expired) throw new TranscriptionTimeoutError(undefined, deadline.ms, "the submit had not been answered");
        throw error;
      }
      control.setJobId(jobId);
      await this.recordSubmitted(store, ref, jobId, control);
      this.logger.info({ jobId }, "job submitted");
      return await this.settle(running, ref, jobId, outcome.promise, deadline, control);
    } finally {
      unregister?.();
      deadline.clear();
    }
  }

  private async runExistingJob(jobId: string, options: JobOptions, control: JobControl): Promise<Transcript> {
    const deadline = new Deadline(options.timeoutMs ?? this.options.timeoutMs);
    let unregister: (() => void) | undefined;
    try {
      const running = await this.ensureStarted();
      const { store } = running;
      const job = store.jobByProviderId(this.options.provider.name, jobId);
      if (!job) throw new UnknownJobError(jobId, store.path);
      control.setStatus(job.status);
      if (job.processed) return await this.storedOutcome(store, job);
      const outcome = this.waitFor(job.ref, control);
      unregister = outcome.unregister;
      return await this.settle(running, job.ref, jobId, outcome.promise, deadline, control);
    } finally {
      unregister?.();
      deadline.clear();
    }
  }

  private async storedOutcome(store: FileJobStore, job: JobRecord): Promise<Transcript> {
    if (job.status === "error") throw new TranscriptionError(job.jobId!, job.error);
    const transcript = await store.readTranscript(job.ref);
    if (!transcript) throw new StoreError(store.path, `Job ${job.jobId} is marked done but its transcript file is missing`);
    return transcript;
  }

  /** Registers a waiter for `ref`; the promise settles with the job's outcome. */
  private waitFor(ref: string, control: JobControl): { promise: Promise<Transcript>; unregister: () => void } {
    let unregister!: () => void;
    const promise = new Promise<Transcript>((resolve, reject) => {
      unregister = this.waiters.add(ref, {
        resolve,
        reject,
        status: (status, jobId) => {
          if (jobId !== undefined) control.setJobId(jobId);
          control.setStatus(status);
        },
      });
    });
    const outcome = Promise.race([promise, rejectOnAbort(control.signal)]);
    // Awaited only once the submit returns; until then a rejection must not count as unhandled.
    outcome.catch(() => undefined);
    return { promise: outcome, unregister };
  }

  private async recordSubmitted(store: FileJobStore, ref: string, jobId: string, control: JobControl): Promise<void> {
    const job = store.job(ref)!;
    // A webhook may already have moved the job further; never move it back.
    const status = isStatusAdvance(job.status, "queued") ? "queued" : job.status;
    await store.saveJob({ ...job, jobId, status, updatedAt: Date.now() });
    control.setStatus(status);
  }

  /** Waits for the outcome; at the deadline asks the provider once, then gives up with the job kept. */
  private async settle(running: Running, ref: string, jobId: string, outcome: Promise<Transcript>, deadline: Deadline, control: JobControl): Promise<Transcript> {
    const first = await Promise.race([outcome, deadline.reached]);
    if (first !== DEADLINE) return first;
    const { provider } = this.options;
    if (!provider.fetchResult) throw new TranscriptionTimeoutError(jobId, deadline.ms, `provider ${provider.name} cannot be asked for the status`);
    let event;
    try {
      event = await provider.fetchResult(jobId, { signal: control.signal });
    } catch (error) {
      throw new TranscriptionTimeoutError(jobId, deadline.ms, `the one status check failed: ${(error as Error).message}`);
    }
    this.logger.info({ jobId, status: event.status }, "deadline reached; asked the provider once");
    const finished = (event.status === "completed" && event.result !== undefined) || event.status === "error";
    if (!finished) throw new TranscriptionTimeoutError(jobId, deadline.ms, `the provider reports "${event.status}"`);
    // The webhook was lost or late: store the answer as a webhook would be (the worker announces it
    // once), and settle this handle from it now rather than wait on processing that may be retrying.
    await running.intake.accept(running.store.job(ref)!, event);
    if (event.status === "error") throw new TranscriptionError(jobId, event.error);
    return transcriptFrom(event, provider.name);
  }
}

const DEADLINE = Symbol("deadline");

/** A per-job deadline; `0` never fires. */
class Deadline {
  readonly reached: Promise<typeof DEADLINE>;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly ms: number) {
    this.reached = new Promise((resolve) => {
      if (ms === 0) return;
      this.timer = setTimeout(() => {
        this.controller.abort(new Error(`deadline of ${ms} ms reached`));
        resolve(DEADLINE);
      }, ms);
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** Ends a run as soon as its handle is cancelled, so no waiter or timer outlives it. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const onAbort = () => reject(new AbortError(undefined, signal.reason));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

function assertAudioUrl(audioUrl: string): void {
  let url: URL;
  try {
    url = new URL(audioUrl);
  } catch {
    throw new ConfigurationError(`audioUrl must be an absolute http(s) URL the provider can download; got ${JSON.stringify(audioUrl)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigurationError(`audioUrl must use http or https so the provider can download it; got ${url.protocol}`);
  }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0|\[::\])$/i;

function isLoopback(url: string): boolean {
  return LOOPBACK.test(new URL(url).hostname);
}

function assertReachable(providerBaseUrl: string, publicUrl: string): void {
  if (isLoopback(providerBaseUrl) || !isLoopback(publicUrl)) return;
  throw new ConfigurationError(
    `The provider at ${providerBaseUrl} cannot reach the receiver at ${publicUrl}: that address only works on this machine. ` +
      "Expose the receiver through a reverse proxy or a tunnel and set receiver.publicUrl to the public URL that forwards to it",
  );
}

