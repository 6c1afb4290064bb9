import type { Pool } from "pg";

/**
 * `postgres://host:port/database (schema s)`: where a store's data lives, for messages and logs.
 * Built from the host, port and database only, so no user name or password ever shows.
 */
export function describeLocation(connection: { connectionString?: string; pool?: Pool }, schema: string): string {
  const options = connection.pool?.options;
  const connectionString = connection.connectionString ?? options?.connectionString;
  const server = connectionString === undefined ? fromParts(options?.host, options?.port, options?.database) : fromUrl(connectionString);
  return `${server} (schema ${schema})`;
}

function fromUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    // Not a URL (pg also takes a socket path): nothing in it is shown, it may hold a password.
    return "PostgreSQL";
  }
}

function fromParts(host: string | undefined, port: number | undefined, database: string | undefined): string {
  return `postgres://${host ?? "localhost"}:${port ?? 5432}/${database ?? ""}`;
}
