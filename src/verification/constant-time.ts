import { timingSafeEqual } from "node:crypto";

/** Compares two strings without leaking where they differ; unequal lengths compare false. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    // Still spend the time of a comparison so length probing learns as little as possible.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
