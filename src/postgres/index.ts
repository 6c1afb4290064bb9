/**
 * `hookscribe/postgres`: a job store in PostgreSQL, so several replicas behind a load balancer
 * share jobs. The only part of hookscribe that imports `pg` (an optional peer dependency). The
 * core (the store interface, the error classes) comes from the main entry `hookscribe`, so there
 * is one copy of every class.
 */
export { postgresStore } from "./postgres-store.js";
export type { PostgresStoreOptions } from "./postgres-store-options.js";
