import { randomUUID } from "node:crypto";
import type { AudioSource } from "./audio-source.js";
import { DEADLINE } from "./deadline.js";
import { isFinalAnswer } from "./domain/provider-event.js";
import type { Transcript } from "./domain/transcript.js";
import { StoreError, TranscriptionTimeoutError, UnknownJobError } from "./errors/index.js";
import type { JobControl } from "./job.js";
import { type JobScope, withJobScope } from "./job-scope.js";
import type { ResolvedOptions } from "./options.js";
import { assertReachable } from "./reachability.js";
import { hashToken, newRef, newToken, webhookUrl } from "./receiver/webhook-route.js";
import { linkSignals } from "./shared/linked-signal.js";
import type { Runtime } from "./runtime.js";
import { storedOutcome } from "./stored-outcome.js";
import type { JobRecord } from "./store/records.js";
import type { JobOptions, TranscribeOptions } from "./transcribe-options.js";
import type { WaiterRegistry } from "./waiter-registry.js";

/** What the life of one job needs from its client. */
export interface JobRunContext {
  options: ResolvedOptions;
  waiters: WaiterRegistry;
  /** The started parts; starting counts against the job's deadline. */
  runtime(): Promise<Runtime>;
}

/**
 * A new job: record it (with a waiter) before the submit leaves the process, submit it, then
 * wait for its outcome until the deadline.
 */
export function runTranscription(context: JobRunContext, audio: AudioSource, options: TranscribeOptions, control: JobControl): Promise<Transcript> {
  const { options: clientOptions, waiters } = context;
  return withJobScope(options.timeoutMs ?? clientOptions.timeoutMs, waiters, control, async (scope) => {
    const runtime = await context.runtime();
    const { store, receiver } = runtime;
    const { provider, receiver: receiverOptions } = clientOptions;
    const publicUrl = receiverOptions.publicUrl ?? receiver.url;
    assertReachable(provider.baseUrl, publicUrl);
    provider.checkWebhookUrl?.(publicUrl);
    const ref = newRef();
    const audioUrl = await audio.url(ref);

    const token = newToken();
    const webhookSecret = newToken();
    const now = Date.now();
    const record: JobRecord = {
      ref,
      provider: provider.name,
      status: "submitting",
      tokenHash: hashToken(token),
      secretHash: hashToken(webhookSecret),
      createdAt: now,
      updatedAt: now,
      processed: false,
    };
    // Waiter and record exist before the URL leaves the process: a webhook may beat the submit's answer.
    const outcome = scope.waitFor(ref);
    await store.createJob(record);

    let jobId: string;
    const submitSignal = linkSignals(control.signal, scope.deadline.signal);
    try {
      ({ jobId } = await provider.submit(
        {
          audioUrl,
          webhookUrl: webhookUrl(publicUrl, receiverOptions.path, { provider: provider.name, ref, token }),
          webhookSecret,
          language: options.language,
          metadata: options.metadata,
        },
        { idempotencyKey: randomUUID(), signal: submitSignal.signal },
      ));
    } catch (error) {
      // The provider never took the job, so nobody will fetch its audio.
      audio.release(ref);
      if (scope.deadline.expired) throw new TranscriptionTimeoutError(undefined, scope.deadline.ms, "the submit had not been answered");
      throw error;
    } finally {
      submitSignal.unlink();
    }
    // A webhook may already have moved the job further: the store never moves it back.
    const change = await store.changeStatus(ref, { jobId, status: "queued", at: Date.now() }).catch((error: unknown) => {
      if (!(error instanceof StoreError)) throw error;
      // The provider has the job: its webhook records the job id as well, so keep waiting for it.
      clientOptions.logger.warn({ jobId, err: error.message }, "could not record the submitted job's id; its webhook will");
      return undefined;
    });
    if (change === undefined) {
      control.setJobId(jobId);
      return settle(runtime, clientOptions, scope, ref, jobId, outcome, control);
    }
    if (change.outcome === "missing") throw new StoreError(store.location, `Job ref ${ref} is no longer in the store (pruned, or the store was replaced while running)`);
    if (change.outcome === "foreign") {
      // A webhook for this URL came first, about another job: a submit retried after an answer
      // that got lost started two. The one that called back is the one this handle follows.
      clientOptions.logger.warn({ jobId: change.job.jobId, otherJobId: jobId }, "the provider answered a retried submit with a second job; following the one that called back");
      jobId = change.job.jobId!;
    }
    control.setJobId(jobId);
    control.setStatus(change.job.status);
    clientOptions.logger.info({ jobId }, "job submitted");
    return settle(runtime, clientOptions, scope, ref, jobId, outcome, control);
  });
}

/** A job submitted earlier (maybe by an earlier process on the same store): its stored outcome, or wait for it. */
export function runExistingJob(context: JobRunContext, jobId: string, options: JobOptions, control: JobControl): Promise<Transcript> {
  const { options: clientOptions, waiters } = context;
  return withJobScope(options.timeoutMs ?? clientOptions.timeoutMs, waiters, control, async (scope) => {
    const runtime = await context.runtime();
    const { store } = runtime;
    const job = await store.jobByProviderId(clientOptions.provider.name, jobId);
    if (!job) throw new UnknownJobError(jobId, store.location);
    control.setStatus(job.status);
    if (job.processed) return storedOutcome(store, job, jobId);
    const outcome = scope.waitFor(job.ref);
    // Read again now that someone waits: the job may have finished while it was read the first time.
    const now = await store.job(job.ref);
    if (now?.processed) return storedOutcome(store, now, jobId);
    return settle(runtime, clientOptions, scope, job.ref, jobId, outcome, control);
  });
}

/**
 * Waits for the outcome; at the deadline asks the provider once. A final answer is taken in as a
 * webhook would be: a transcript is stored with the job marked processed, which settles the
 * handle, and any other final answer (a failure, or the result a pending delivery of the job
 * lacked) is left in a delivery that the worker processes at once and settles the handle from.
 * Any other answer, or a failure to process, gives up with the job kept.
 */
async function settle(
  runtime: Runtime,
  options: ResolvedOptions,
  scope: JobScope,
  ref: string,
  jobId: string,
  outcome: Promise<Transcript>,
  control: JobControl,
): Promise<Transcript> {
  const first = await Promise.race([outcome, scope.deadline.reached]);
  if (first !== DEADLINE) return first;
  const { provider, logger } = options;
  const timeout = (detail: string) => new TranscriptionTimeoutError(jobId, scope.deadline.ms, detail);
  if (!provider.fetchResult) throw timeout(`provider ${provider.name} cannot be asked for the status`);
  let event;
  try {
    // One request, not retried: the handle rejects within the request timeout of the deadline.
    event = await provider.fetchResult(jobId, { signal: control.signal, retry: false });
  } catch (error) {
    throw timeout(`the one status check failed: ${(error as Error).message}`);
  }
  logger.info({ jobId, status: event.status }, "deadline reached; asked the provider once");
  if (!isFinalAnswer(event)) throw timeout(`the provider reports "${event.status}"`);
  const { outcome: accepted, pending } = await runtime.intake.accept(ref, event);
  if (accepted === "foreign") throw timeout(`the status check answered about job ${event.jobId} instead`);
  if (accepted === "missing") throw timeout("the job is no longer in the store (pruned?)");
  if (pending !== undefined) {
    try {
      await runtime.worker.processNow(pending);
    } catch (error) {
      throw timeout(`the provider has finished, but processing its answer failed: ${(error as Error).message}`);
    }
  }
  // Processed already, here or by another instance sharing the store: the answer is stored.
  const job = await runtime.store.job(ref);
  if (job?.processed) return storedOutcome(runtime.store, job, jobId);
  // Another instance sharing the store holds the delivery and has not finished it yet.
  throw timeout("the provider has finished and another instance is processing its answer; client.job(id) resolves once it is done");
}
