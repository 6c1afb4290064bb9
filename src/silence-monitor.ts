/** Payload of the `'silence'` event. */
export interface SilenceInfo {
  /** How many submitted jobs are still waiting for their terminal webhook. */
  pendingJobs: number;
  /** Provider job ids of those jobs (at most 20). */
  jobIds: string[];
  /** Milliseconds since the last webhook arrived, or since the oldest pending job was submitted. */
  silentForMs: number;
  /** When the last webhook arrived, if any arrived in this process. */
  lastWebhookAt?: Date;
}

interface SilenceMonitorDeps {
  /** Alert after this long without a webhook while jobs are pending. */
  thresholdMs: number;
  /** Jobs submitted and not finished: id and when they were submitted. */
  pendingJobs: () => Promise<{ jobId: string; since: number }[]>;
  onSilence: (info: SilenceInfo) => void;
}

/**
 * The heartbeat: webhooks are pushed, so a misconfigured tunnel or a provider outage shows up
 * only as nothing happening. This notices when jobs wait and nothing has arrived for a while.
 */
export class SilenceMonitor {
  private lastWebhookAt: number | undefined;
  private alerted = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SilenceMonitorDeps) {}

  start(): void {
    const every = Math.min(Math.max(this.deps.thresholdMs / 4, 10), 60_000);
    // A store that cannot be read now is looked at again on the next tick.
    this.timer = setInterval(() => void this.check().catch(() => undefined), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  heard(): void {
    this.lastWebhookAt = Date.now();
    this.alerted = false;
  }

  async check(): Promise<void> {
    const pending = await this.deps.pendingJobs();
    if (pending.length === 0 || this.alerted) return;
    // Silence counts from the later of the last webhook and the oldest pending submit.
    const oldest = Math.min(...pending.map((job) => job.since));
    const since = Math.max(this.lastWebhookAt ?? oldest, oldest);
    const silentForMs = Date.now() - since;
    if (silentForMs < this.deps.thresholdMs) return;
    this.alerted = true;
    this.deps.onSilence({
      pendingJobs: pending.length,
      jobIds: pending.slice(0, 20).map((job) => job.jobId),
      silentForMs,
      lastWebhookAt: this.lastWebhookAt === undefined ? undefined : new Date(this.lastWebhookAt),
    });
  }
}
