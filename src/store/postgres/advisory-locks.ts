import { createHash } from "node:crypto";

/** What a store serialises across replicas with a transaction-scoped advisory lock. */
export type LockPurpose = "migrate" | "prune";

const PURPOSE: Record<LockPurpose, number> = { migrate: 1, prune: 2 };

/**
 * The two keys of `pg_advisory_xact_lock(key1, key2)` for one schema and purpose: the first is
 * derived from the schema name, so stores of two schemas in one database never wait for each
 * other. Computed here rather than with `hashtext()`, whose results PostgreSQL does not promise
 * to keep across versions.
 */
export function advisoryLock(schema: string, purpose: LockPurpose): [number, number] {
  return [createHash("sha256").update(`hookscribe:${schema}`).digest().readInt32BE(0), PURPOSE[purpose]];
}
