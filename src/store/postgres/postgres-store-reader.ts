import type { Pool } from "pg";
import { StoreError } from "../../errors/index.js";
import type { Transcript } from "../../domain/transcript.js";
import type { JobListing, StoreReader } from "../job-store.js";
import type { DeadLetterRecord, JobRecord } from "../records.js";
import { CONNECT_TIMEOUT_MS, QUERY_TIMEOUT_MS, createPool, ignoreIdleClientError } from "./connections.js";
import { toStoreError } from "./failures.js";
import { describeLocation } from "./location.js";
import { appliedVersion, refuseNewerSchema } from "./migrations.js";
import { StoreReads } from "./store-reads.js";

export interface PostgresStoreReaderOptions {
  connectionString: string;
  schema: string;
  /** Size of its pool. */
  maxConnections: number;
  /** `application_name` of its connections. */
  applicationName: string;
}

/**
 * A PostgreSQL store, only looked at (the CLI's read commands): its reads are the store's own
 * (`StoreReads`), on a small pool of its own, and nothing else. It never migrates or creates
 * anything, holds no delivery, listens for nothing and writes nothing, so a role that may only
 * read the tables can use it, and it leaves the replicas that share the store alone.
 */
export class PostgresStoreReader implements StoreReader {
  readonly location: string;
  private readonly reads: StoreReads;
  private pool: Pool | undefined;

  constructor(private readonly options: PostgresStoreReaderOptions) {
    this.location = describeLocation(options, options.schema);
    this.reads = new StoreReads(options.schema, this.location);
  }

  /**
   * Connects and reads the schema's version: `false` when the schema holds no hookscribe store
   * (nothing is created); a `StoreError` when it cannot be read, or is newer than this code.
   */
  async open(): Promise<boolean> {
    const { connectionString, schema, maxConnections, applicationName } = this.options;
    if (!this.pool) {
      this.pool = createPool({ connectionString, max: maxConnections, connectTimeoutMs: CONNECT_TIMEOUT_MS, queryTimeoutMs: QUERY_TIMEOUT_MS, applicationName });
      this.pool.on("error", ignoreIdleClientError);
    }
    try {
      const version = await appliedVersion(this.pool, schema);
      refuseNewerSchema(version, this.location);
      return version > 0;
    } catch (error) {
      throw toStoreError(this.location, "open the store", error);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  jobByProviderId(provider: string, jobId: string): Promise<JobRecord | undefined> {
    return this.read("read the job", (pool) => this.reads.jobByProviderId(pool, provider, jobId));
  }

  listJobs(listing: JobListing): Promise<JobRecord[]> {
    return this.read("list the jobs", (pool) => this.reads.listJobs(pool, listing));
  }

  deadLetters(): Promise<DeadLetterRecord[]> {
    return this.read("list the dead letters", (pool) => this.reads.deadLetters(pool));
  }

  readTranscript(ref: string): Promise<Transcript | undefined> {
    return this.read("read the transcript", (pool) => this.reads.readTranscript(pool, ref));
  }

  private async read<T>(doing: string, run: (pool: Pool) => Promise<T>): Promise<T> {
    const pool = this.pool;
    if (!pool) throw new StoreError(this.location, "The store is not open (reader closed?)");
    try {
      return await run(pool);
    } catch (error) {
      throw toStoreError(this.location, doing, error);
    }
  }
}
