import type { Logger } from "../types.js";

/**
 * Logs as JSON lines: warnings and errors to stderr, and, when `deliveries` is given, the
 * receiver's one entry per delivery ("webhook acked" / "webhook refused") there. Entries never
 * hold secrets, tokens or transcript text.
 */
export function jsonLinesLogger(options: { deliveries?: NodeJS.WritableStream } = {}): Logger {
  const write = (stream: NodeJS.WritableStream, level: string, obj: object, msg?: string) =>
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...obj })}\n`);
  const { deliveries } = options;
  return {
    debug: (obj, msg) => {
      if (deliveries && (msg?.startsWith("webhook acked") || msg?.startsWith("webhook refused"))) write(deliveries, "info", obj, msg);
    },
    info: () => undefined,
    warn: (obj, msg) => write(process.stderr, "warn", obj, msg),
    error: (obj, msg) => write(process.stderr, "error", obj, msg),
  };
}
