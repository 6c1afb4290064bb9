/**
 * Bytes of request bodies held in memory at once, over all requests: each request is bounded by
 * `maxBodyBytes`, but many at once could still exhaust memory without a bound on their sum.
 */
export class ByteBudget {
  private held = 0;

  constructor(private readonly limit: number) {}

  /** Takes `bytes` from the budget; `false`, and nothing taken, when that would pass the limit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  /** Gives back bytes taken earlier. */
  give(bytes: number): void {
    this.held -= bytes;
  }
}
