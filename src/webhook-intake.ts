import { type ProviderEvent, isFinalAnswer } from "./domain/provider-event.js";
import { ProviderPayloadError } from "./errors/index.js";
import { toTranscript } from "./domain/transcript.js";
import type { Logger } from "./shared/logger.js";
import type { Provider } from "./providers/provider.js";
import type { Reply } from "./receiver/reply.js";
import type { Admission } from "./receiver/webhook-receiver.js";
import { type WebhookRoute, tokenMatches } from "./receiver/webhook-route.js";
import type { JobStore } from "./store/job-store.js";
import type { JobRecord } from "./store/records.js";
import type { WebhookRequest } from "./verification/webhook-request.js";
import type { WaiterRegistry } from "./waiter-registry.js";
import type { Worker } from "./worker.js";

interface IntakeDeps {
  store: JobStore;
  provider: Provider;
  worker: Worker;
  waiters: WaiterRegistry;
  logger: Logger;
  /** Told about every authenticated webhook (the silence monitor listens). */
  onWebhook: () => void;
}

/** `Retry-After` of a delivery the store could not take: long enough for a short outage to pass. */
const STORE_RETRY_AFTER_SEC = 5;

/**
 * What applying an event to its job did: `stored` (the status moved forward), `duplicate` (a
 * repeated or stale status: nothing changed), `foreign` (the event is about another job than the
 * one its URL or status check belongs to: refused), `missing` (the job is no longer in the store:
pruned). `pending` names the job's terminal delivery
 * that is not processed yet, if there is one.
 */
interface Accepted {
  outcome: "stored" | "duplicate" | "foreign" | "missing";
  pending?: string;
}

/**
 * Where a webhook is verified and made durable, in this order: the URL's per-job token, the
 * provider's signature, the payload's schema, the monotonic status rule, the store write.
 * Only then is it acknowledged. A `completed` event that carries its transcript is stored as the
 * finished job's transcript and announced; any other terminal event is stored as a delivery, and
 * the worker does the rest after the ack.
 */
export class WebhookIntake {
  constructor(private readonly deps: IntakeDeps) {}

  /**
   * Route and token before the body is read: the provider (404), the job's token (401), the
   * content type (415). An admitted body is taken for the job found here: a job pruned while the
   * body was read is missing when its status changes, and refused then.
   */
  async admit(route: WebhookRoute, contentType: string | undefined): Promise<Admission> {
    const { provider } = this.deps;
    const refused = (reply: Reply): Admission => ({ kind: "refused", reply });
    if (route.provider !== provider.name) return refused({ status: 404, outcome: "refused", message: `no provider named ${route.provider} here` });
    const found = await this.jobOf(route);
    if ("refusal" in found) return refused(found.refusal);
    if (!provider.acceptsContentType(contentType)) {
      return refused({ status: 415, outcome: "refused", message: `content type ${contentType ?? "(none)"} is not one ${provider.name} sends webhooks as` });
    }
    return { kind: "admitted", take: (request) => this.take(found.job, request) };
  }

  /** Deliveries accepted and not processed yet, dead letters left out: what the worker still has to do. */
  backlog(): number {
    return this.deps.store.unprocessedCount();
  }

  /** Whether the store takes writes now. */
  storeHealthy(): boolean {
    return this.deps.store.healthy();
  }

  /** Verifies, parses and stores the body of a delivery admitted for `job`. */
  private async take(job: JobRecord, request: WebhookRequest): Promise<Reply> {
    const { provider, logger } = this.deps;
    const verification = provider.authenticate(request, { isJobSecret: (candidate) => job.secretHash !== undefined && tokenMatches(candidate, job.secretHash) });
    if (!verification.ok) {
      logger.warn({ jobId: job.jobId, reason: verification.reason }, "webhook failed verification");
      return { status: 401, outcome: "refused", message: verification.reason, jobId: job.jobId };
    }
    let event: ProviderEvent | null;
    try {
      event = provider.parse(request);
    } catch (error) {
      return { status: 400, outcome: "refused", message: describeParseError(error), jobId: job.jobId };
    }
    this.deps.onWebhook();
    if (event === null) {
      logger.info({ jobId: job.jobId }, "notification not about the job's status; acknowledged and ignored");
      return { status: 200, outcome: "ignored", message: "ok", jobId: job.jobId };
    }
    let outcome: Accepted["outcome"];
    try {
      ({ outcome } = await this.accept(job.ref, event));
    } catch (error) {
      return this.storeFailed(error, event.jobId);
    }
    if (outcome === "missing") return { status: 401, outcome: "refused", message: "unknown webhook URL or wrong token" };
    if (outcome === "foreign") {
      logger.warn({ jobId: job.jobId, payloadJobId: event.jobId }, "webhook job id does not match its URL");
      return { status: 400, outcome: "refused", message: "the job id in the body does not belong to this webhook URL", jobId: job.jobId };
    }
    return { status: 200, outcome: outcome === "stored" ? "accepted" : "duplicate", message: "ok", jobId: event.jobId };
  }

  private storeFailed(error: unknown, jobId: string | undefined): Reply {
    this.deps.logger.error({ jobId, err: (error as Error).message }, "could not store webhook; answered 503");
    return { status: 503, outcome: "refused", message: "could not store the event; retry later", jobId, retryAfterSec: STORE_RETRY_AFTER_SEC };
  }

  /** The job the route's ref and token name, or the answer when there is none (`401`) or the store cannot say (`503`). */
  private async jobOf(route: WebhookRoute): Promise<{ job: JobRecord } | { refusal: Reply }> {
    let job: JobRecord | undefined;
    try {
      job = await this.deps.store.job(route.ref);
    } catch (error) {
      return { refusal: this.storeFailed(error, undefined) };
    }
    if (job && job.provider === this.deps.provider.name && tokenMatches(route.token, job.tokenHash)) return { job };
    return { refusal: { status: 401, outcome: "refused", message: "unknown webhook URL or wrong token" } };
  }

  /**
   * Applies an event to the job with local ref `ref`, atomically in the store: a duplicate or
   * stale status changes nothing; an advance is made durable, and a terminal one is handed to the
   * worker, or, a `completed` one with its transcript, stored finished and announced. Resolves
   * once durable.
   */
  async accept(ref: string, event: ProviderEvent): Promise<Accepted> {
    const { store, provider, worker, waiters, logger } = this.deps;
    // A full answer needs no processing: stored with its transcript, it is done once durable.
    const transcript = event.status === "completed" && event.result ? toTranscript(event.jobId, provider.name, event.result, event.raw) : undefined;
    const started = performance.now();
    const change = await store.changeStatus(ref, { jobId: event.jobId, status: event.status, error: event.error, at: Date.now(), event, transcript });
    // The ref and token say which job this is; an event about another job must not rewrite it.
    if (change.outcome === "foreign" || change.outcome === "missing") return { outcome: change.outcome };
    if (change.outcome === "unchanged") {
      logger.debug({ jobId: event.jobId, status: event.status, stored: change.job.status }, "duplicate or stale webhook");
      const pending = change.job.processed ? undefined : await this.supplyPendingResult(change.job, event);
      return { outcome: "duplicate", pending };
    }
    if (change.deliveryId !== undefined) worker.enqueue(change.deliveryId);
    logger.info({ jobId: event.jobId, status: event.status }, "webhook accepted");
    waiters.status(ref, event.status, event.jobId);
    if (transcript && change.job.processed) worker.storedOnReceipt(ref, transcript, performance.now() - started);
    return { outcome: "stored", pending: change.deliveryId };
  }

  /**
   * The unprocessed terminal delivery of a job that got its terminal event again. When that
   * delivery is thin and still without a usable result, and this event of the same status carries
   * what it lacks, it is kept as that delivery's result and the worker takes it up now rather
   * than after its backoff (or never, once dead-lettered).
   */
  private async supplyPendingResult(job: JobRecord, event: ProviderEvent): Promise<string | undefined> {
    const { store, worker, logger } = this.deps;
    const pending = await store.pendingDelivery(job.ref);
    if (!pending) return undefined;
    const lacksResult = !isFinalAnswer(pending.event) && !(pending.fetched && isFinalAnswer(pending.fetched));
    if (lacksResult && event.status === job.status && isFinalAnswer(event)) {
      await store.keepFetchedResult(pending.id, event);
      worker.processNow(pending.id).catch((error: unknown) => {
        logger.warn({ jobId: event.jobId, err: (error as Error).message }, "processing a supplied result failed; the worker retries it");
      });
    }
    return pending.id;
  }
}

function describeParseError(error: unknown): string {
  if (error instanceof ProviderPayloadError) return error.message;
  return `body could not be parsed: ${(error as Error).message}`;
}
