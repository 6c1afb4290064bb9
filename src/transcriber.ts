import { EventEmitter } from "node:events";
import { lentFileAudio, remoteAudio } from "./audio-source.js";
import type { DeadLetter } from "./domain/dead-letter.js";
import type { JobStatus } from "./domain/job-status.js";
import type { Transcript } from "./domain/transcript.js";
import { ConfigurationError, UnknownJobError } from "./errors/index.js";
import { type JobControl, TranscriptionJob } from "./job.js";
import { type JobRunContext, runExistingJob, runTranscription } from "./job-runs.js";
import { storedOutcome } from "./stored-outcome.js";
import { type JobSummary, type JobsFilter, type JobsPage, pageOfJobs, toJobSummary } from "./job-summary.js";
import { type ResolvedOptions, type TranscriberOptions, resolveTranscriberOptions } from "./options.js";
import type { DeliveryInfo } from "./receiver/reply.js";
import { Runtime } from "./runtime.js";
import type { SilenceInfo } from "./silence-monitor.js";
import { type JobOptions, type TranscribeOptions, checkJobOptions, checkTranscribeOptions } from "./transcribe-options.js";
import { WaiterRegistry } from "./waiter-registry.js";

/** Events a `Transcriber` emits. */
export interface TranscriberEvents {
  /** Once per job, when its transcript is stored. */
  transcript: [transcript: Transcript];
  /** Jobs are pending and no webhook arrived for `silenceAlertMs`. */
  silence: [info: SilenceInfo];
  /** Every webhook delivery the receiver answered: accepted, duplicate or refused, with its status code. */
  delivery: [info: DeliveryInfo];
}

/**
 * `await client.transcribe(url)`: submits a job whose webhook points at the receiver embedded in
 * this process and resolves when the verified webhook arrives. A façade: the running parts live
 * in `Runtime`, the life of one job in `job-runs`.
 */
export class Transcriber extends EventEmitter<TranscriberEvents> {
  private readonly options: ResolvedOptions;
  private readonly waiters = new WaiterRegistry();
  private starting: Promise<Runtime> | undefined;
  private closing: Promise<void> | undefined;
  /** Aborted by `close()`: ends every handle's run (submit, wait, status check) with an `AbortError`. */
  private closeController = new AbortController();
  /** Runs of handles still going, so `close()` can wait for them before closing the store. */
  private readonly runs = new Set<Promise<Transcript>>();
  private runtime: Runtime | undefined;

  constructor(options: TranscriberOptions) {
    super();
    this.options = resolveTranscriberOptions(options);
    const { provider, receiver } = this.options;
    // A receiver URL the provider will not call back is a configuration error, found before any job.
    if (receiver.publicUrl !== undefined) provider.checkWebhookUrl?.(receiver.publicUrl);
  }

  /** `http://host:port` of the receiver once it listens; `undefined` before `start()`. */
  get receiverUrl(): string | undefined {
    return this.runtime?.receiver.url;
  }

  /** Opens the store, starts the receiver and resumes unprocessed events. Idempotent. */
  async start(): Promise<void> {
    await this.ensureStarted();
  }

  /**
   * Submits `audioUrl` and returns a handle that resolves with the transcript. A URL the provider
   * cannot download, or a bad or misspelt option, throws a `ConfigurationError` at once.
   */
  transcribe(audioUrl: string, options: TranscribeOptions = {}): TranscriptionJob {
    checkTranscribeOptions(options);
    const audio = remoteAudio(audioUrl);
    return this.handle((control) => runTranscription(this.context(), audio, options, control), options);
  }

  /**
   * Transcribes a local file: the receiver serves it to the provider under a one-time,
   * unguessable URL until the job is done (404 afterwards), so no upload service is needed.
   * The provider must reach the receiver, as for webhooks.
   */
  transcribeFile(path: string, options: TranscribeOptions = {}): TranscriptionJob {
    checkTranscribeOptions(options);
    const audio = lentFileAudio(path, async () => {
      const { files, receiver } = await this.ensureStarted();
      return { files, publicBaseUrl: this.options.receiver.publicUrl ?? receiver.url };
    });
    return this.handle((control) => runTranscription(this.context(), audio, options, control), options);
  }

  /** A handle for a job submitted earlier, also by an earlier process using the same store. */
  job(jobId: string, options: JobOptions = {}): TranscriptionJob {
    checkJobOptions(options);
    return this.handle((control) => runExistingJob(this.context(), jobId, options, control), { ...options, jobId, status: "queued" });
  }

  /**
   * One page of the jobs in the store, newest first (`limit`, default 100), optionally with one
   * status; the page's `next` cursor, passed as `before`, gives the page after it.
   */
  async jobs(filter: JobsFilter = {}): Promise<JobsPage> {
    const { store } = await this.ensureStarted();
    return pageOfJobs(store, filter);
  }

  /** One stored job and, once it is done, its transcript; never waits. Unknown ids reject with `UnknownJobError`. */
  async inspect(jobId: string): Promise<JobSummary & { transcript?: Transcript }> {
    const { store } = await this.ensureStarted();
    const job = await store.jobByProviderId(this.options.provider.name, jobId);
    if (!job) throw new UnknownJobError(jobId, store.location);
    const transcript = job.processed && job.status === "completed" ? await storedOutcome(store, job, jobId) : undefined;
    return { ...toJobSummary(job), transcript };
  }

  /** Events whose processing failed `retry.attempts` times. */
  async deadLetters(): Promise<DeadLetter[]> {
    const { store } = await this.ensureStarted();
    return (await store.deadLetters()).map(({ id, jobId, error, attempts, failedAt }) => ({ id, jobId, error, attempts, failedAt: new Date(failedAt) }));
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
    const runtime = await this.starting?.catch(() => undefined);
    if (!runtime) return;
    // What can still resolve does first; then the remaining handles end (a submit in flight
    // included) before the store closes under them.
    await runtime.stopWork();
    this.closeController.abort(new Error("the client was closed"));
    await Promise.allSettled([...this.runs]);
    await runtime.release();
    this.runtime = undefined;
    this.starting = undefined;
    this.closeController = new AbortController();
    this.options.logger.info({}, "hookscribe closed");
  }

  /** A handle whose run `close()` can end and wait for. */
  private handle(
    run: (control: JobControl) => Promise<Transcript>,
    options: Pick<TranscribeOptions, "signal" | "onStatus"> & { jobId?: string; status?: JobStatus },
  ): TranscriptionJob {
    const closed = this.closeController.signal;
    const { onStatus } = options;
    return new TranscriptionJob(
      (control) => {
        const result = run(control);
        this.runs.add(result);
        result.catch(() => undefined).finally(() => this.runs.delete(result));
        return result;
      },
      {
        ...options,
        signals: [options.signal, closed],
        // Told from inside the receiver and the worker: a callback's bug must not fail a stored delivery or cost its announcement.
        onStatus:
          onStatus &&
          ((status, jobId) => {
            try {
              onStatus(status, jobId);
            } catch (error) {
              this.options.logger.error({ jobId, err: (error as Error).message }, "an onStatus callback threw");
            }
          }),
      },
    );
  }

  private context(): JobRunContext {
    return { options: this.options, waiters: this.waiters, runtime: () => this.ensureStarted() };
  }

  private ensureStarted(): Promise<Runtime> {
    if (this.closing) return Promise.reject(new ConfigurationError("The client is closing; call start() again after close() resolves"));
    this.starting ??= Runtime.start(this.options, this.waiters, {
      transcript: (transcript) => this.announce("transcript", transcript, transcript.jobId),
      silence: (info) => this.announce("silence", info),
      delivery: (info) => this.announce("delivery", info, info.jobId),
    }).then(
      (runtime) => (this.runtime = runtime),
      (error: unknown) => {
        this.starting = undefined;
        throw error;
      },
    );
    return this.starting;
  }

  /** Emits an event; a listener's bug must not make the worker retry (and announce) a job again. */
  private announce<E extends keyof TranscriberEvents>(event: E, payload: TranscriberEvents[E][0], jobId?: string): void {
    try {
      (this.emit as (event: E, payload: TranscriberEvents[E][0]) => boolean)(event, payload);
    } catch (error) {
      this.options.logger.error({ jobId, err: (error as Error).message }, `a '${event}' listener threw`);
    }
  }
}
