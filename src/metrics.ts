import { type BatchObservableCallback, type Meter, metrics } from "@opentelemetry/api";
import packageJson from "../package.json" with { type: "json" };
import type { DeliveryInfo } from "./receiver/reply.js";

/** What the gauges read when the application's metrics SDK collects. */
export interface MetricSources {
  /** Deliveries accepted and not processed yet. */
  backlog(): number;
  /** Jobs submitted and not finished. */
  pendingJobs(): Promise<number>;
}

/**
 * hookscribe's metrics, through `@opentelemetry/api`: a no-op until the application registers an
 * OpenTelemetry SDK (a `MeterProvider`), the way libraries publish metrics. Instruments are named
 * `hookscribe.*`; none carries a job id, a token or any text of a transcript.
 */
export class Metrics {
  private readonly meter: Meter = metrics.getMeter("hookscribe", packageJson.version);
  private readonly deliveries = this.meter.createCounter("hookscribe.deliveries", {
    description: "Webhook deliveries answered by the receiver, by HTTP status code and outcome",
  });
  private readonly ackLatency = this.meter.createHistogram("hookscribe.delivery.duration", {
    description: "Time from a webhook's arrival to its answer",
    unit: "ms",
  });
  private readonly processing = this.meter.createHistogram("hookscribe.processing.duration", {
    description: "Time a terminal event took to be processed, by outcome and stage: the worker's run for a delivery (fetch if thin, store, resolve), or the store write before the ack for a transcript that came with its webhook",
    unit: "ms",
  });
  private readonly deadLetters = this.meter.createCounter("hookscribe.dead_letters", {
    description: "Deliveries whose processing failed every attempt",
  });

  private readonly backlog = this.meter.createObservableGauge("hookscribe.worker.backlog", {
    description: "Deliveries accepted and waiting to be processed",
  });
  private readonly pendingJobs = this.meter.createObservableGauge("hookscribe.jobs.pending", {
    description: "Jobs submitted and not finished at the provider",
  });
  private readonly observe: BatchObservableCallback = async (result) => {
    result.observe(this.backlog, this.sources.backlog());
    // A store that cannot be read now leaves the gauge out of this collection.
    const pending = await this.sources.pendingJobs().catch(() => undefined);
    if (pending !== undefined) result.observe(this.pendingJobs, pending);
  };

  /** Starts the gauges; `stop()` detaches them. */
  constructor(private readonly sources: MetricSources) {
    this.meter.addBatchObservableCallback(this.observe, [this.backlog, this.pendingJobs]);
  }

  delivery(info: DeliveryInfo): void {
    const attributes = { "http.response.status_code": info.statusCode, outcome: info.outcome };
    this.deliveries.add(1, attributes);
    this.ackLatency.record(info.durationMs, attributes);
  }

  /** `stage`: where it was processed, `worker` (after the ack) or `receipt` (a transcript stored before the ack). */
  processed(durationMs: number, outcome: "completed" | "error" | "failed", stage: "worker" | "receipt"): void {
    this.processing.record(durationMs, { outcome, stage });
  }

  deadLettered(): void {
    this.deadLetters.add(1);
  }

  stop(): void {
    this.meter.removeBatchObservableCallback(this.observe, [this.backlog, this.pendingJobs]);
  }
}
