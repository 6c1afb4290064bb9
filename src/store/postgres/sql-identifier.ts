import { ConfigurationError } from "../../errors/index.js";

/**
 * A schema name hookscribe accepts: a lower-case SQL identifier, so it means the same quoted or
 * not, and at most 48 characters, so the notification channel `<schema>_changes` stays within
 * PostgreSQL's 63-byte names.
 */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** `name` double-quoted for SQL; only names `SCHEMA_NAME` accepts ever reach a statement. */
export function quotedSchema(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new ConfigurationError(`Invalid PostgreSQL schema name ${JSON.stringify(name)}: use lower-case letters, digits and _, at most 48 characters`);
  return `"${name}"`;
}
