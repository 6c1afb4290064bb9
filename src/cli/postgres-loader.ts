import { ConfigurationError } from "../errors/index.js";

/** What the CLI does with PostgreSQL (postgres-commands.ts). */
export type PostgresCommands = typeof import("./postgres-commands.js");

/**
 * The PostgreSQL side of the CLI, imported only when `--database-url` (or `DATABASE_URL`) is
 * used: it imports `pg`, an optional peer dependency, so every other command works without it.
 * The bundle keeps this `import()` as a chunk of its own and `pg` external.
 */
export async function loadPostgres(): Promise<PostgresCommands> {
  try {
    return await import("./postgres-commands.js");
  } catch (error) {
    if (isMissingPg(error)) {
      throw new ConfigurationError("--database-url (or DATABASE_URL) needs node-postgres: install pg to use --database-url (npm install pg), or use --store for the JSON file", {
        cause: error,
      });
    }
    throw error;
  }
}

/** Node's error for `import "pg"` when no `pg` package can be found from here. */
function isMissingPg(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && /['"]pg['"]/.test(message);
}
