import http from "node:http";
import https from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "../shared/logger.js";
import type { EmulatedDelivery, WebhookStatus } from "./dev-job.js";
import type { DevProviderStats } from "./dev-provider-stats.js";
import type { AttemptVerdict, OutgoingWebhook } from "./dialect.js";

/** One webhook message, and what it announces (for the emulator's records and logs). */
interface WebhookMessage extends OutgoingWebhook {
  jobId: string;
  status: WebhookStatus;
}

/** How one delivery round ended. `superseded`: a redelivery started a newer round. */
type DeliveryOutcome = "delivered" | "failed" | "dead_letter" | "superseded" | "cancelled";

type AttemptResult = { ok: true } | { ok: false; retryable: boolean; error: string };

interface WebhookSenderConfig {
  /** How the provider reads an answer: delivered, retried, or given up on. */
  verdict: (statusCode: number) => AttemptVerdict;
  retryDelaysMs: readonly number[];
  deliveryTimeoutMs: number;
  /** Aborted on close: cancels retry waits and in-flight requests. */
  signal: AbortSignal;
  stats: DevProviderStats;
  logger: Logger;
}

/**
 * Sends webhooks the way the emulated provider does: what counts as delivered, as final or as
 * worth a retry is the dialect's; retries follow the schedule, then the message is dead-lettered.
 */
export class WebhookSender {
  // Benchmarks run hundreds of jobs at once: reusing connections keeps them from exhausting ports.
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });

  constructor(private readonly config: WebhookSenderConfig) {}

  /**
   * One delivery round of `message`, recorded in `delivery`. Never rejects. `onFirstAttempt` runs
   * once the first attempt is answered (or the round ends without one).
   */
  async deliver(message: WebhookMessage, delivery: EmulatedDelivery, onFirstAttempt: () => void = () => {}): Promise<DeliveryOutcome> {
    const round = ++delivery.round;
    delivery.state = "pending";
    try {
      for (let retry = 0; ; retry++) {
        if (this.config.signal.aborted) return "cancelled";
        const result = await this.attempt(message, delivery);
        onFirstAttempt();
        if (delivery.round !== round) return "superseded";
        if (result.ok) return this.settle(message, delivery, "delivered");
        delivery.lastError = result.error;
        const wait = this.config.retryDelaysMs[retry];
        if (!result.retryable) return this.settle(message, delivery, "failed");
        if (wait === undefined) return this.settle(message, delivery, "dead_letter");
        if (!(await this.pause(wait))) return "cancelled";
        if (delivery.round !== round) return "superseded";
      }
    } finally {
      onFirstAttempt();
    }
  }

  /** Drops the pooled connections; call after every round has stopped. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private settle(message: WebhookMessage, delivery: EmulatedDelivery, state: "delivered" | "failed" | "dead_letter"): DeliveryOutcome {
    delivery.state = state;
    if (state !== "delivered") {
      this.config.stats.webhooksFailed++;
      this.config.logger.warn(
        { jobId: message.jobId, status: message.status, attempts: delivery.attempts, error: delivery.lastError },
        state === "failed" ? "webhook refused by the receiver, not retrying" : "webhook dead-lettered after the retry schedule",
      );
    }
    return state;
  }

  private async pause(ms: number): Promise<boolean> {
    try {
      await delay(ms, undefined, { signal: this.config.signal });
      return true;
    } catch {
      return false;
    }
  }

  private async attempt(message: WebhookMessage, delivery: EmulatedDelivery): Promise<AttemptResult> {
    const { stats, logger } = this.config;
    delivery.attempts++;
    stats.webhooksSent++;
    const result = await this.post(message);
    if (result.ok) stats.webhooksDelivered++;
    logger.debug(
      { jobId: message.jobId, status: message.status, attempt: delivery.attempts, ...(result.ok ? {} : { error: result.error }) },
      "webhook attempt",
    );
    return result;
  }

  /** One POST; resolves (never rejects) once the whole answer is read, or on failure or timeout. */
  private post(message: WebhookMessage): Promise<AttemptResult> {
    const { body } = message;
    const target = new URL(message.url);
    const secure = target.protocol === "https:";
    return new Promise((resolve) => {
      const settle = (result: AttemptResult): void => {
        clearTimeout(timer);
        resolve(result);
      };
      const fail = (error: Error): void => settle({ ok: false, retryable: true, error: error.message });
      const request = (secure ? https : http).request(
        target,
        {
          method: message.method,
          // A dialect may name its provider's own user agent.
          headers: { "user-agent": "hookscribe-dev-provider", ...message.headers(), "content-length": String(body.length) },
          agent: secure ? this.httpsAgent : this.httpAgent,
          signal: this.config.signal,
        },
        (response) => {
          response.resume();
          response.on("end", () => settle(this.classify(response.statusCode ?? 0)));
          response.on("error", fail);
        },
      );
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${this.config.deliveryTimeoutMs} ms`)),
        this.config.deliveryTimeoutMs,
      );
      request.on("error", fail);
      request.end(body);
    });
  }

  private classify(statusCode: number): AttemptResult {
    const verdict = this.config.verdict(statusCode);
    return verdict === "delivered" ? { ok: true } : { ok: false, retryable: verdict === "retry", error: `HTTP ${statusCode}` };
  }
}
