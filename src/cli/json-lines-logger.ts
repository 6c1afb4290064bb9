import type { Logger } from "../shared/logger.js";

/** Writes one JSON object per line, stamped with the time. */
export function writeJsonLine(stream: NodeJS.WritableStream, entry: object): void {
  stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

/** Logs warnings and errors to stderr as JSON lines. Entries never hold secrets, tokens or transcript text. */
export function jsonLinesLogger(): Logger {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj, msg) => writeJsonLine(process.stderr, { level: "warn", msg, ...obj }),
    error: (obj, msg) => writeJsonLine(process.stderr, { level: "error", msg, ...obj }),
  };
}
