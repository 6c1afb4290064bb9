import http from "node:http";
import https from "node:https";
import { setTimeout as delay } from "node:timers/promises";
import { HMAC_SIGNATURE_HEADER } from "../providers/generic-wire.js";
import { signHmacHex } from "../verification/hmac-hex.js";
import { signStandardWebhook } from "../verification/standard-webhooks.js";
import type { Logger } from "../shared/logger.js";
import type { EmulatedDelivery, WebhookStatus } from "./dev-job.js";
import type { DevProviderStats } from "./dev-provider-stats.js";

/** One webhook message: the same bytes and id on every attempt. */
interface WebhookMessage {
  jobId: string;
  status: WebhookStatus;
  url: string;
  /** Stable across attempts, duplicates and redeliveries, so a receiver can deduplicate by it. */
  webhookId: string;
  body: string;
}

/** How one delivery round ended. `superseded`: a redelivery started a newer round. */
type DeliveryOutcome = "delivered" | "failed" | "dead_letter" | "superseded" | "cancelled";

type AttemptResult = { ok: true } | { ok: false; retryable: boolean; error: string };

interface WebhookSenderConfig {
  secret: string;
  retryDelaysMs: readonly number[];
  deliveryTimeoutMs: number;
  /** Aborted on close: cancels retry waits and in-flight requests. */
  signal: AbortSignal;
  stats: DevProviderStats;
  logger: Logger;
}

/**
 * Sends webhooks the way the reference protocol's provider does: signed both ways, 2xx delivered,
 * 4xx final, anything else retried on the schedule, then dead-lettered.
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
    const body = Buffer.from(message.body);
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
          method: "POST",
          headers: this.headersFor(message, body),
          agent: secure ? this.httpsAgent : this.httpAgent,
          signal: this.config.signal,
        },
        (response) => {
          response.resume();
          response.on("end", () => settle(classify(response.statusCode ?? 0)));
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

  /** Both signatures on every attempt, with a fresh Standard Webhooks timestamp each time. */
  private headersFor(message: WebhookMessage, body: Buffer): Record<string, string> {
    const { secret } = this.config;
    return {
      "content-type": "application/json",
      "content-length": String(body.length),
      "user-agent": "hookscribe-dev-provider",
      [HMAC_SIGNATURE_HEADER]: signHmacHex(secret, body),
      ...signStandardWebhook(secret, message.webhookId, body),
    };
  }
}

function classify(statusCode: number): AttemptResult {
  if (statusCode >= 200 && statusCode < 300) return { ok: true };
  const refused = statusCode >= 400 && statusCode < 500;
  return { ok: false, retryable: !refused, error: `HTTP ${statusCode}` };
}
