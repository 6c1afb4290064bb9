/**
 * Seconds to whole milliseconds, rounded to the nearest (not floored): provider times like
 * `3726.2496` or float sums like `2.9999999` mean the nearest millisecond. Cue building works on
 * these integers only, so a rule like "a pause longer than 1.5 s" is not fooled by float error
 * (`2.7 - 1.2` is `1.5000000000000002` in floating point, `2700 - 1200` is exactly `1500`).
 */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

/**
 * `hh:mm:ss<separator>mmm` from whole milliseconds: `,` for SRT, `.` for WebVTT. Hours are always
 * at least two digits and grow past 99 rather than wrapping.
 */
export function formatTimestamp(ms: number, separator: "," | "."): string {
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor(ms / 60_000) % 60;
  const seconds = Math.floor(ms / 1000) % 60;
  const millis = ms % 1000;
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${separator}${pad(millis, 3)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
