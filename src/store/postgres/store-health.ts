import { reasonOf } from "./failures.js";

/**
 * Whether the database takes writes. A failure that says it cannot be reached (`lost`) starts a
 * probe every `intervalMs`; the first probe that succeeds makes the store healthy again, resolves
 * everyone waiting for it and calls `recovered`.
 */
export class StoreHealth {
  private active = false;
  /** Why the database counts as unreachable, while it does. */
  private outage: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly probe: () => Promise<unknown>,
    readonly intervalMs: number,
    private readonly recovered: () => void = () => undefined,
  ) {}

  /** Open, and no failure since the last successful probe. */
  get ok(): boolean {
    return this.active && this.outage === undefined;
  }

  get reason(): string | undefined {
    return this.outage;
  }

  /** The store is open: healthy until a failure says otherwise. */
  start(): void {
    this.active = true;
    this.outage = undefined;
    this.settle();
  }

  /** The store is closed: no more probes, and nobody waiting is ever resolved. */
  stop(): void {
    this.active = false;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.waiters = [];
  }

  whenHealthy(): Promise<void> {
    if (this.ok) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  lost(error: unknown): void {
    if (!this.active || this.outage !== undefined) return;
    this.outage = reasonOf(error);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.check();
    }, this.intervalMs);
    this.probeTimer.unref();
  }

  private async check(): Promise<void> {
    try {
      await this.probe();
    } catch (error) {
      if (!this.active) return;
      this.outage = reasonOf(error);
      this.scheduleProbe();
      return;
    }
    if (!this.active) return;
    this.outage = undefined;
    this.settle();
    this.recovered();
  }

  private settle(): void {
    if (this.ok) for (const resolve of this.waiters.splice(0)) resolve();
  }
}
