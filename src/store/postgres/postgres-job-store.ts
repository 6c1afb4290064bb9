import { randomUUID } from "node:crypto";
import pg from "pg";
import type { ClientConfig, Pool } from "pg";
import { StoreError } from "../../errors/index.js";
import { isTerminal } from "../../domain/job-status.js";
import type { ProviderEvent } from "../../domain/provider-event.js";
import type { Transcript } from "../../domain/transcript.js";
import type { DeliveryOutcome, JobListing, JobStore, StatusChange, StatusChangeResult } from "../job-store.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "../records.js";
import { advisoryLock } from "./advisory-locks.js";
import { ChangeFeed } from "./change-feed.js";
import { isConnectionError, toStoreError } from "./failures.js";
import { describeLocation } from "./location.js";
import { migrate } from "./migrations.js";
import { DEAD_LETTER_COLUMNS, DELIVERY_COLUMNS, JOB_COLUMNS, deadLetterFromRow, deliveryFromRow, jobFromRow, transcriptFromRow } from "./rows.js";
import { quotedSchema } from "./sql-identifier.js";
import { statusRank } from "./status-rank.js";
import { StoreHealth } from "./store-health.js";
import { inTransaction } from "./transaction.js";

export interface PostgresJobStoreOptions {
  /** A pool of the application's; the store never ends it. Exactly one of `pool` and `connectionString`. */
  pool?: Pool;
  /** The store creates a pool from it, and ends it on `close()`. */
  connectionString?: string;
  schema: string;
  leaseMs: number;
  /** Size of the pool the store creates. */
  maxConnections: number;
  probeIntervalMs: number;
}

/** How many deliveries one `takeOver()` claims at most; the caller asks again for the rest. */
const TAKE_OVER_BATCH = 500;

/** How long the pool the store creates waits for a connection before the database counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5000;

/** `application_name` of the store's connections, to tell them apart in `pg_stat_activity`. */
const POOL_APPLICATION_NAME = "hookscribe";
const LISTENER_APPLICATION_NAME = "hookscribe listener";

const ERROR_RANK = statusRank("error");

/**
 * The PostgreSQL store: every replica of a service opens one on the same schema and they share
 * jobs, deliveries and dead letters.
 *
 * - A status change is one statement (`UPDATE … WHERE status_rank < $rank`), so concurrent
 *   webhooks of one job, on any replicas, move it forward once; the terminal one becomes a
 *   delivery in the same statement.
 * - A delivery is held by the instance that created, claimed or took it over, until
 *   `lease_until` (the database's clock). A heartbeat every `leaseMs / 3` renews the holds of this
 *   instance; when an instance dies its holds expire and `takeOver()` hands its deliveries to
 *   another one.
 * - Every change that may resolve a waiter is announced with `NOTIFY` on `<schema>_changes`,
 *   sent at commit; each instance `LISTEN`s on a connection of its own and hands other instances'
 *   changes to `watch()` listeners.
 */
export class PostgresJobStore implements JobStore {
  readonly location: string;
  private readonly options: PostgresJobStoreOptions;
  private readonly tables: { jobs: string; deliveries: string; deadLetters: string; transcripts: string };
  private readonly channel: string;
  /** `leaseMs` as a PostgreSQL interval. */
  private readonly lease: string;
  private readonly health: StoreHealth;
  private pool: Pool | undefined;
  private feed: ChangeFeed | undefined;
  /** This instance in `deliveries.holder` and in its notifications; new on every `open()`. */
  private instanceId = "";
  /** Deliveries this instance holds and renews. */
  private readonly held = new Set<string>();
  private unprocessed = 0;
  /** Deliveries this instance has added since it was created: tells which ones a count still under way may have missed. */
  private added = 0;
  private readonly listeners = new Set<(ref: string | undefined) => void>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeat: Promise<void> | undefined;

  constructor(options: PostgresJobStoreOptions) {
    this.options = options;
    this.location = describeLocation(options, options.schema);
    const s = quotedSchema(options.schema);
    this.tables = { jobs: `${s}.jobs`, deliveries: `${s}.deliveries`, deadLetters: `${s}.dead_letters`, transcripts: `${s}.transcripts` };
    this.channel = `${options.schema}_changes`;
    this.lease = `${options.leaseMs} milliseconds`;
    this.health = new StoreHealth(() => this.connectedPool().query("SELECT 1"), options.probeIntervalMs);
  }

  async open(): Promise<void> {
    if (this.pool) return;
    const { pool: given, connectionString, maxConnections, schema, probeIntervalMs } = this.options;
    const pool =
      given ??
      new pg.Pool({ connectionString, max: maxConnections, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, application_name: POOL_APPLICATION_NAME });
    pool.on("error", ignoreIdleClientError);
    const instanceId = randomUUID();
    const feed = new ChangeFeed(this.listenerConfig(), this.channel, probeIntervalMs, {
      notified: (payload) => this.notified(payload),
      reconnected: () => this.tell(undefined),
    });
    try {
      await migrate(pool, schema, this.location);
      this.unprocessed = await this.countUnprocessed(pool);
      await feed.start();
    } catch (error) {
      pool.off("error", ignoreIdleClientError);
      if (!given) await pool.end().catch(() => undefined);
      throw toStoreError(this.location, "open the store", error);
    }
    this.pool = pool;
    this.feed = feed;
    this.instanceId = instanceId;
    this.held.clear();
    this.health.start();
    this.heartbeatTimer = setInterval(() => {
      this.heartbeat ??= this.beat().finally(() => {
        this.heartbeat = undefined;
      });
    }, Math.max(1, Math.floor(this.options.leaseMs / 3)));
    this.heartbeatTimer.unref();
  }

  async close(): Promise<void> {
    const pool = this.pool;
    if (!pool) return;
    this.pool = undefined;
    clearInterval(this.heartbeatTimer);
    this.health.stop();
    await this.heartbeat;
    await this.feed?.stop();
    // Best effort: a hold left behind only delays another instance's takeover by leaseMs.
    await pool.query(`UPDATE ${this.tables.deliveries} SET holder = NULL, lease_until = NULL WHERE holder = $1`, [this.instanceId]).catch(() => undefined);
    this.held.clear();
    pool.off("error", ignoreIdleClientError);
    if (!this.options.pool) await pool.end();
  }

  healthy(): boolean {
    return this.pool !== undefined && this.health.ok;
  }

  whenHealthy(): Promise<void> {
    return this.health.whenHealthy();
  }

  unprocessedCount(): number {
    return Math.max(0, this.unprocessed);
  }

  job(ref: string): Promise<JobRecord | undefined> {
    return this.read("read the job", async (pool) => {
      const { rows } = await pool.query(`SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} WHERE ref = $1`, [ref]);
      return rows[0] && jobFromRow(rows[0], this.location);
    });
  }

  jobByProviderId(provider: string, jobId: string): Promise<JobRecord | undefined> {
    return this.read("read the job", async (pool) => {
      const { rows } = await pool.query(`SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} WHERE provider = $1 AND job_id = $2`, [provider, jobId]);
      return rows[0] && jobFromRow(rows[0], this.location);
    });
  }

  listJobs(listing: JobListing): Promise<JobRecord[]> {
    return this.read("list the jobs", async (pool) => {
      const values: unknown[] = [];
      const conditions: string[] = [];
      if (listing.status !== undefined) {
        values.push(listing.status);
        conditions.push(`status = $${values.length}`);
      }
      if (listing.after !== undefined) {
        values.push(listing.after.createdAt, listing.after.ref);
        conditions.push(`(created_at, ref) < ($${values.length - 1}::bigint, $${values.length})`);
      }
      values.push(listing.limit);
      const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
      const { rows } = await pool.query(`SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} ${where} ORDER BY created_at DESC, ref DESC LIMIT $${values.length}`, values);
      return rows.map((row) => jobFromRow(row, this.location));
    });
  }

  pendingJobs(): Promise<JobRecord[]> {
    return this.read("list the pending jobs", async (pool) => {
      const { rows } = await pool.query(
        `SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} WHERE status IN ('queued', 'processing') AND job_id IS NOT NULL ORDER BY created_at, ref`,
      );
      return rows.map((row) => jobFromRow(row, this.location));
    });
  }

  pendingDelivery(ref: string): Promise<DeliveryRecord | undefined> {
    return this.read("read the job's delivery", async (pool) => {
      const { rows } = await pool.query(`SELECT ${DELIVERY_COLUMNS} FROM ${this.tables.deliveries} WHERE ref = $1 ORDER BY received_at LIMIT 1`, [ref]);
      return rows[0] && deliveryFromRow(rows[0], this.location);
    });
  }

  deadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.read("read the dead letter", async (pool) => {
      const { rows } = await pool.query(`SELECT ${DEAD_LETTER_COLUMNS} FROM ${this.tables.deadLetters} WHERE id = $1`, [id]);
      return rows[0] && deadLetterFromRow(rows[0], this.location);
    });
  }

  deadLetters(): Promise<DeadLetterRecord[]> {
    return this.read("list the dead letters", async (pool) => {
      const { rows } = await pool.query(`SELECT ${DEAD_LETTER_COLUMNS} FROM ${this.tables.deadLetters} ORDER BY failed_at, id`);
      return rows.map((row) => deadLetterFromRow(row, this.location));
    });
  }

  readTranscript(ref: string): Promise<Transcript | undefined> {
    return this.read("read the transcript", async (pool) => {
      const { rows } = await pool.query(`SELECT ref, body FROM ${this.tables.transcripts} WHERE ref = $1`, [ref]);
      return rows[0] && transcriptFromRow(rows[0], this.location);
    });
  }

  createJob(job: JobRecord): Promise<void> {
    return this.write("store the job", async (pool) => {
      await pool.query(
        `INSERT INTO ${this.tables.jobs} (${JOB_COLUMNS}, status_rank) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          job.ref,
          job.provider,
          job.jobId ?? null,
          job.status,
          job.tokenHash,
          job.secretHash ?? null,
          job.createdAt,
          job.updatedAt,
          job.finishedAt ?? null,
          job.processed,
          job.error ?? null,
          statusRank(job.status),
        ],
      );
    });
  }

  changeStatus(ref: string, change: StatusChange): Promise<StatusChangeResult> {
    return this.write("store the job's new status", async (pool) => {
      const terminal = isTerminal(change.status);
      const event = terminal && change.event ? JSON.stringify(change.event) : null;
      // One statement, so one transaction: the job moves only forward and only if it follows
      // this provider job id (concurrent changes wait for the row and re-check), its terminal
      // event becomes a delivery held by this instance, and the notification goes at commit.
      const { rows } = await pool.query(
        `WITH moved AS (
           UPDATE ${this.tables.jobs}
              SET job_id = $2, status = $3, status_rank = $4, updated_at = $5::bigint, error = coalesce($6, error),
                  finished_at = CASE WHEN $7::boolean THEN $5::bigint ELSE finished_at END
            WHERE ref = $1 AND status_rank < $4 AND (job_id IS NULL OR job_id = $2)
        RETURNING ${JOB_COLUMNS}
         ), delivered AS (
           INSERT INTO ${this.tables.deliveries} (id, ref, job_id, event, received_at, holder, lease_until)
           SELECT $8::text, ref, job_id, $9::json, $5::bigint, $10::uuid, now() + $11::interval FROM moved WHERE $9::json IS NOT NULL
        RETURNING id
         )
         SELECT moved.*, (SELECT id FROM delivered) AS delivery_id, pg_notify($12, $13) FROM moved`,
        [
          ref,
          change.jobId,
          change.status,
          statusRank(change.status),
          change.at,
          change.error ?? null,
          terminal,
          randomUUID(),
          event,
          this.instanceId,
          this.lease,
          this.channel,
          this.payload(ref),
        ],
      );
      const row = rows[0];
      if (row) {
        const deliveryId = (row.delivery_id as string | null) ?? undefined;
        if (deliveryId !== undefined) {
          this.held.add(deliveryId);
          this.unprocessed += 1;
          this.added += 1;
        }
        return { outcome: "advanced", job: jobFromRow(row, this.location), ...(deliveryId !== undefined && { deliveryId }) };
      }
      // Nothing moved: why, as the job is now.
      const current = await pool.query(`SELECT ${JOB_COLUMNS} FROM ${this.tables.jobs} WHERE ref = $1`, [ref]);
      if (!current.rows[0]) return { outcome: "missing" };
      const job = jobFromRow(current.rows[0], this.location);
      return { outcome: job.jobId !== undefined && job.jobId !== change.jobId ? "foreign" : "unchanged", job };
    });
  }

  claim(deliveryId: string): Promise<DeliveryRecord | undefined> {
    return this.write("claim the delivery", async (pool) => {
      const { rows } = await pool.query(
        `UPDATE ${this.tables.deliveries} SET holder = $2, lease_until = now() + $3::interval
          WHERE id = $1 AND (holder IS NULL OR holder = $2 OR lease_until < now())
      RETURNING ${DELIVERY_COLUMNS}`,
        [deliveryId, this.instanceId, this.lease],
      );
      if (!rows[0]) return undefined;
      const delivery = deliveryFromRow(rows[0], this.location);
      this.held.add(delivery.id);
      return delivery;
    });
  }

  takeOver(): Promise<DeliveryRecord[]> {
    return this.write("take over deliveries", async (pool) => {
      // SKIP LOCKED: instances taking over at the same moment share the work instead of queueing.
      const { rows } = await pool.query(
        `UPDATE ${this.tables.deliveries} SET holder = $1, lease_until = now() + $2::interval
          WHERE id IN (
            SELECT d.id FROM ${this.tables.deliveries} d
             WHERE (d.holder IS NULL OR d.lease_until < now())
               AND NOT EXISTS (SELECT 1 FROM ${this.tables.deadLetters} l WHERE l.delivery_id = d.id)
             ORDER BY d.received_at
             LIMIT ${TAKE_OVER_BATCH}
               FOR UPDATE SKIP LOCKED)
      RETURNING ${DELIVERY_COLUMNS}`,
        [this.instanceId, this.lease],
      );
      const deliveries = rows.map((row) => deliveryFromRow(row, this.location)).sort((a, b) => a.receivedAt - b.receivedAt);
      for (const delivery of deliveries) this.held.add(delivery.id);
      return deliveries;
    });
  }

  keepFetchedResult(deliveryId: string, fetched: ProviderEvent): Promise<void> {
    return this.write("keep the fetched result", async (pool) => {
      await pool.query(`UPDATE ${this.tables.deliveries} SET fetched = $2::json WHERE id = $1`, [deliveryId, JSON.stringify(fetched)]);
    });
  }

  completeDelivery(deliveryId: string, outcome: DeliveryOutcome, at: number): Promise<boolean> {
    return this.write("complete the delivery", async (pool) => {
      const completed = await inTransaction(pool, async (client) => {
        // Only the holder completes it; its dead letter goes with it (ON DELETE CASCADE).
        const { rows } = await client.query<{ ref: string; dead_lettered: boolean }>(
          `DELETE FROM ${this.tables.deliveries} d WHERE id = $1 AND holder = $2
           RETURNING ref, EXISTS (SELECT 1 FROM ${this.tables.deadLetters} l WHERE l.delivery_id = d.id) AS dead_lettered`,
          [deliveryId, this.instanceId],
        );
        const done = rows[0];
        if (!done) return undefined;
        if (outcome.kind === "completed") {
          await client.query(
            `INSERT INTO ${this.tables.transcripts} (ref, body) VALUES ($1, $2::json) ON CONFLICT (ref) DO UPDATE SET body = EXCLUDED.body`,
            [done.ref, JSON.stringify(outcome.transcript)],
          );
          await client.query(`UPDATE ${this.tables.jobs} SET processed = true, updated_at = $2 WHERE ref = $1`, [done.ref, at]);
        } else if (outcome.kind === "error") {
          await client.query(
            `UPDATE ${this.tables.jobs}
                SET status = 'error', status_rank = $3, processed = true, error = $4,
                    finished_at = coalesce(finished_at, $2::bigint), updated_at = $2::bigint
              WHERE ref = $1`,
            [done.ref, at, ERROR_RANK, outcome.error ?? null],
          );
        }
        await client.query("SELECT pg_notify($1, $2)", [this.channel, this.payload(done.ref)]);
        return done;
      });
      this.held.delete(deliveryId);
      if (completed && !completed.dead_lettered) this.unprocessed -= 1;
      return completed !== undefined;
    });
  }

  saveDeadLetter(deadLetter: DeadLetterRecord): Promise<void> {
    return this.write("store the dead letter", async (pool) => {
      const { id, deliveryId, ref, jobId, error, attempts, failedAt } = deadLetter;
      // A dead letter waits for a replay, which any instance may run: the delivery is no longer
      // held. A delivery already gone was processed meanwhile: there is nothing to dead-letter.
      await pool.query(
        `WITH released AS (
           UPDATE ${this.tables.deliveries} SET holder = NULL, lease_until = NULL WHERE id = $2 AND holder = $8
         )
         INSERT INTO ${this.tables.deadLetters} (${DEAD_LETTER_COLUMNS})
         SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::integer, $7::bigint WHERE EXISTS (SELECT 1 FROM ${this.tables.deliveries} WHERE id = $2)
         ON CONFLICT (id) DO UPDATE
           SET delivery_id = EXCLUDED.delivery_id, ref = EXCLUDED.ref, job_id = EXCLUDED.job_id,
               error = EXCLUDED.error, attempts = EXCLUDED.attempts, failed_at = EXCLUDED.failed_at`,
        [id, deliveryId, ref, jobId, error, attempts, failedAt, this.instanceId],
      );
      this.held.delete(deliveryId);
      await this.refreshUnprocessed(pool);
    });
  }

  watch(listener: (ref: string | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  prune(before: number): Promise<number> {
    return this.write("prune finished jobs", (pool) =>
      inTransaction(pool, async (client) => {
        // One replica at a time: the others would only wait to find nothing left to delete.
        const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_xact_lock($1, $2) AS locked", advisoryLock(this.options.schema, "prune"));
        if (!rows[0]!.locked) return 0;
        // A job still `submitting` that long ago was left by a process that died before the
        // provider answered (as the JSON store does). Transcripts and deliveries cascade.
        const { rowCount } = await client.query(
          `DELETE FROM ${this.tables.jobs} WHERE (processed AND finished_at < $1) OR (status = 'submitting' AND updated_at < $1)`,
          [before],
        );
        return rowCount ?? 0;
      }),
    );
  }

  /** Runs a read; a failure becomes a `StoreError` (and makes the store unhealthy when the database is unreachable). */
  private async read<T>(doing: string, run: (pool: Pool) => Promise<T>): Promise<T> {
    const pool = this.connectedPool();
    try {
      return await run(pool);
    } catch (error) {
      throw this.failure(doing, error);
    }
  }

  /** Runs a write, refused at once while the database is unreachable. */
  private async write<T>(doing: string, run: (pool: Pool) => Promise<T>): Promise<T> {
    this.connectedPool();
    if (!this.health.ok) {
      throw new StoreError(
        this.location,
        `Cannot ${doing}: the database is unreachable (${this.health.reason}); writes resume as soon as a check every ${this.health.intervalMs} ms reaches it`,
      );
    }
    return this.read(doing, run);
  }

  private failure(doing: string, error: unknown): StoreError {
    if (isConnectionError(error)) this.health.lost(error);
    return toStoreError(this.location, doing, error);
  }

  private connectedPool(): Pool {
    if (!this.pool) throw new StoreError(this.location, "The store is not open (client closed?)");
    return this.pool;
  }

  /** Renews this instance's holds and refreshes the count of unprocessed deliveries. */
  private async beat(): Promise<void> {
    const pool = this.pool;
    if (!pool) return;
    try {
      const ids = [...this.held];
      if (ids.length > 0) {
        const { rows } = await pool.query<{ id: string }>(
          `UPDATE ${this.tables.deliveries} SET lease_until = now() + $3::interval WHERE holder = $1 AND id = ANY($2::text[]) RETURNING id`,
          [this.instanceId, ids, this.lease],
        );
        // Not renewed: processed, or taken over by another instance after this one stalled.
        const renewed = new Set(rows.map((row) => row.id));
        for (const id of ids) if (!renewed.has(id)) this.held.delete(id);
      }
      await this.refreshUnprocessed(pool);
    } catch (error) {
      // The next beat tries again; an unreachable database also starts the health probe.
      this.failure("renew the leases", error);
    }
  }

  /**
   * Counts the unprocessed deliveries again, which is how other instances' changes are seen. A
   * delivery this instance added while the count ran may have committed after the count's
   * snapshot: it is added on top, so the count never drops below what this instance knows (it
   * may be one too high until the next count). A delivery completed meanwhile stays counted
   * likewise (its decrement is overwritten).
   */
  private async refreshUnprocessed(pool: Pool): Promise<void> {
    const added = this.added;
    const count = await this.countUnprocessed(pool);
    this.unprocessed = count + (this.added - added);
  }

  private async countUnprocessed(pool: Pool): Promise<number> {
    const { rows } = await pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${this.tables.deliveries} d WHERE NOT EXISTS (SELECT 1 FROM ${this.tables.deadLetters} l WHERE l.delivery_id = d.id)`,
    );
    return rows[0]!.count;
  }

  /** `<instance id>:<ref>`: the instance, so that it can ignore its own changes. */
  private payload(ref: string): string {
    return `${this.instanceId}:${ref}`;
  }

  private notified(payload: string): void {
    const separator = payload.indexOf(":");
    if (separator < 0 || payload.slice(0, separator) === this.instanceId) return;
    this.tell(payload.slice(separator + 1));
  }

  private tell(ref: string | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(ref);
      } catch {
        // A listener's failure is its own; the others are still told.
      }
    }
  }

  /** The listening connection's settings: those of the pool, under a name of its own. */
  private listenerConfig(): ClientConfig {
    const { pool, connectionString } = this.options;
    const base: ClientConfig = pool ? { ...pool.options } : { connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true };
    return { ...base, application_name: LISTENER_APPLICATION_NAME };
  }
}

/**
 * A pool emits 'error' when one of its idle connections drops (the server restarted, a proxy
 * timed it out); without a listener that would crash the process. The pool has already dropped
 * that connection, and a query that fails for the same cause marks the store unhealthy.
 */
function ignoreIdleClientError(): void {}
