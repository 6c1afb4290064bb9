/** Exponential backoff with full jitter, kept between `minDelayMs` and `maxDelayMs`. */
export function backoffDelay(attempt: number, minDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.max(0, attempt - 1));
  return minDelayMs + Math.random() * (ceiling - minDelayMs);
}
