import { z } from "zod";

/**
 * A pino-compatible logger. Every entry about a job carries `jobId`; entries never carry
 * secrets, webhook tokens or transcript text.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const ignore = () => undefined;

export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** A pino-compatible logger option, checked for the four methods hookscribe calls. */
export const loggerSchema = z.custom<Logger>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    ["debug", "info", "warn", "error"].every((level) => typeof (value as Record<string, unknown>)[level] === "function"),
  "must have debug, info, warn and error methods (pino-compatible)",
);
