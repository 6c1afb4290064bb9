import type { z } from "zod";

interface DelayRange {
  minDelayMs: number;
  maxDelayMs: number;
}

/** A backoff range is usable only when its smallest delay does not exceed its largest. */
export function delaysInOrder(range: DelayRange): boolean {
  return range.minDelayMs <= range.maxDelayMs;
}

/** How a retry schema reports inverted delays (as `.refine`'s second argument): on `minDelayMs`, once its fields are valid on their own. */
export const delaysOutOfOrderIssue = {
  path: ["minDelayMs"],
  when: (payload: z.core.ParsePayload) => payload.issues.length === 0,
  error: (issue: z.core.$ZodRawIssue) => {
    const { minDelayMs, maxDelayMs } = issue.input as DelayRange;
    return `must not exceed maxDelayMs (${minDelayMs} > ${maxDelayMs})`;
  },
};
