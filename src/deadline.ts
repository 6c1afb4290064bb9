/** What `Deadline.reached` resolves with, so a race can tell the deadline from a result. */
export const DEADLINE = Symbol("deadline");

/** A per-job deadline; `0` never fires. */
export class Deadline {
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

  /** Aborts when the deadline passes: hand it to requests that must not outlive it. */
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
