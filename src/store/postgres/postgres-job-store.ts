import { randomUUID } from "node:crypto";
import type { ClientConfig, Pool, QueryConfig } from "pg";
import { StoreError } from "../../errors/index.js";
import { isTerminal } from "../../domain/job-status.js";
import { type ProviderEvent, isFinalAnswer } from "../../domain/provider-event.js";
import type { Transcript } from "../../domain/transcript.js";
import type { DeliveryOutcome, JobListing, JobStore, StatusChange, StatusChangeResult } from "../job-store.js";
import type { DeadLetterRecord, DeliveryRecord, JobRecord } from "../records.js";
import { advisoryLock } from "./advisory-locks.js";
import { ChangeFeed } from "./change-feed.js";
import { CONNECT_TIMEOUT_MS, KEEP_ALIVE_INITIAL_DELAY_MS, QUERY_TIMEOUT_MS, createPool, ignoreIdleClientError } from "./connections.js";
import { isConnectionError, isPoolWaitTimeout, toStoreError } from "./failures.js";
import { describeLocation } from "./location.js";
import { migrate } from "./migrations.js";
import { DEAD_LETTER_COLUMNS, DELIVERY_COLUMNS, JOB_COLUMNS, deliveryFromRow, jobFromRow } from "./rows.js";
import { statusRank } from "./status-rank.js";
import { StatementBatch } from "./statement-batch.js";
import { StoreHealth } from "./store-health.js";
import { StoreReads, type StoreTables } from "./store-reads.js";
import { Listeners } from "./listeners.js";
import { inTransaction } from "./transaction.js";
import { UncertainCompletions } from "./uncertain-completions.js";

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
  /**
   * How long one attempt to open a connection may take before the database counts as unreachable
   * (default `CONNECT_TIMEOUT_MS`); for the pool the store creates and its listening connection.
   */
  connectTimeoutMs?: number;
  /**
   * Internal (not an option of `postgresStore()`; tests set it small). How long a statement may go
   * unanswered before its connection counts as broken and the database as unreachable (default
   * `QUERY_TIMEOUT_MS`): pg's `query_timeout` on the pool the store creates (a given pool keeps
   * its own settings), on the listening connection, and on each health probe.
   */
  queryTimeoutMs?: number;
  /**
   * Internal (not an option of `postgresStore()`; tests set it small). How often the listening
   * connection is checked with a statement, so that a half-open one is found and replaced
   * (default `LISTENER_CHECK_MS`; see `ChangeFeed`).
   */
  listenerCheckMs?: number;
}

/** Most status changes, or completions, written by one statement. */
const BATCH_ITEMS = 100;

/** How many deliveries one `takeOver()` claims at most; the caller asks again for the rest. */
const TAKE_OVER_BATCH = 500;

/**
 * How often the listening connection is checked: the longest a half-open one goes unnoticed (plus
 * the query timeout), notifications lost meanwhile. The health probe of an outage also checks it
 * as soon as the database answers again.
 */
const LISTENER_CHECK_MS = 10_000;

/**
 * Which share of a lease a delivery held by this instance is answered from memory for (by
 * `claim()`, and its job by `job()`), counted from before the statement that last set its lease
 * was sent. Heartbeats renew every third of a lease, so a live holder stays within it; past it
 * (renewals failing or late) the store asks the database again.
 */
const TRUSTED_LEASE_SHARE = 0.5;

/** `application_name` of the store's connections, to tell them apart in `pg_stat_activity`. */
const POOL_APPLICATION_NAME = "hookscribe";
const LISTENER_APPLICATION_NAME = "hookscribe listener";

const ERROR_RANK = statusRank("error");

/**
 * The sender of a completion's notification (`*:<ref>`), where a status change's names the
 * instance that made it (`<instance id>:<ref>`), which ignores it: its own waiters were told
 * already. A completion (a delivery completed, or a full answer stored with its job processed) is
 * told to every instance, this one included: when its reply is lost (the connection broke after
 * COMMIT), the retry (the worker's, or the provider's redelivery) finds the job done and resolves
 * nobody, and this notification has the follower read the job, processed, from the store as soon
 * as it comes (the instance learns that the completion was its own, and announces it, only once
 * its pool reaches the database again: see `UncertainCompletions`). When the reply does come, the
 * job's waiters were resolved already, and the follower has nothing to read. (An instance of an
 * earlier version reads `*` as another instance: it is told too.)
 */
const EVERY_INSTANCE = "*";

/**
 * The PostgreSQL store: every replica of a service opens one on the same schema and they share
 * jobs, deliveries and dead letters.
 *
 * - A status change is one statement (`UPDATE … WHERE status_rank < $rank`), so concurrent
 *   webhooks of one job, on any replicas, move it forward once; the terminal one becomes a
 *   delivery in the same statement, or, a full answer, the job's transcript with the job processed.
 * - A delivery is held by the instance that created, claimed or took it over, until
 *   `lease_until` (the database's clock). A heartbeat every `leaseMs / 3` renews the holds of this
 *   instance; when an instance dies its holds expire and `takeOver()` hands its deliveries to
 *   another one. While a hold's lease surely runs (by the local clock, see `trusted`), nobody
 *   else can change the delivery or its job: `claim()` of it, and `job()` of its job, are
 *   answered from what this instance last wrote or read back, without a statement.
 * - Completing a delivery is one statement too: the holder's `DELETE` of it, the transcript, the
 *   job marked processed and the notification, all or nothing. A statement that stores a
 *   transcript writes an id of its own into the job's `completed_by`: when its connection breaks
 *   before the answer comes, the store looks the id up once the statement is over and the
 *   database answers again (`UncertainCompletions`), and tells `watchLateCompletions()`
 *   listeners about a completion that did commit.
 * - Every change that may resolve a waiter is announced with `NOTIFY` on `<schema>_changes`,
 *   sent at commit; each instance `LISTEN`s on a connection of its own and hands other instances'
 *   changes, and every completion (its own too, see `EVERY_INSTANCE`), to `watch()` listeners;
 *   one about a job this instance is completing is handed on only once that write has settled
 *   (`whileCompleting`).
 *   PostgreSQL commits transactions that notify one at a time, so status changes (and
 *   completions) under way together go as one statement (`StatementBatch`): one commit for all of
 *   them, each one's promise settled by it.
 * - No statement waits forever on a connection that went half-open: the pool the store creates
 *   has a client-side query timeout (a statement unanswered that long counts as an unreachable
 *   database: the store turns unhealthy until a probe answers) and TCP keep-alive, and the
 *   listening connection is checked every `LISTENER_CHECK_MS` and at the end of every outage.
 */
export class PostgresJobStore implements JobStore {
  readonly location: string;
  private readonly options: PostgresJobStoreOptions;
  private readonly tables: StoreTables;
  private readonly reads: StoreReads;
  private readonly channel: string;
  /** `leaseMs` as a PostgreSQL interval. */
  private readonly lease: string;
  private readonly health: StoreHealth;
  private pool: Pool | undefined;
  private feed: ChangeFeed | undefined;
  /** This instance in `deliveries.holder` and in its notifications; new on every `open()`. */
  private instanceId = "";
  /** Deliveries this instance holds and renews, by id. */
  private readonly held = new Map<string, Hold>();
  /** The same holds, by the ref of their job (a job has at most one delivery). */
  private readonly heldByRef = new Map<string, Hold>();
  private unprocessed = 0;
  /** Deliveries this instance has added since it was created: tells which ones a count still under way may have missed. */
  private added = 0;
  private readonly listeners = new Listeners<[ref: string | undefined]>();
  /** Refs with completing writes of this instance in flight, and how many: see `whileCompleting`. */
  private readonly completing = new Map<string, number>();
  /** Jobs whose notification came while this instance was completing them: told once that settled. */
  private readonly heldBack = new Set<string>();
  /** Completions whose answer was lost: confirmed by the health probe and by each heartbeat. */
  private readonly uncertain: UncertainCompletions;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Status changes and completions in flight together go as one statement (see `StatementBatch`). */
  private readonly statusChanges = new StatementBatch<PendingStatusChange, Record<string, unknown> | undefined>({
    maxItems: BATCH_ITEMS,
    key: (pending) => pending.ref,
    run: (changes) => this.applyStatusChanges(changes),
  });
  private readonly completions = new StatementBatch<PendingCompletion, { dead_lettered: boolean } | undefined>({
    maxItems: BATCH_ITEMS,
    key: (pending) => pending.deliveryId,
    run: (completions) => this.applyCompletions(completions),
  });
  private heartbeat: Promise<void> | undefined;

  /** How long one attempt to open a connection may take. */
  private get connectTimeoutMs(): number {
    return this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  }

  /** How long a statement may go unanswered. */
  private get queryTimeoutMs(): number {
    return this.options.queryTimeoutMs ?? QUERY_TIMEOUT_MS;
  }

  constructor(options: PostgresJobStoreOptions) {
    this.options = options;
    this.location = describeLocation(options, options.schema);
    this.reads = new StoreReads(options.schema, this.location);
    this.tables = this.reads.tables;
    this.channel = `${options.schema}_changes`;
    this.uncertain = new UncertainCompletions(this.tables, this.location);
    this.lease = `${options.leaseMs} milliseconds`;
    this.health = new StoreHealth(
      async () => {
        // Bounded on a given pool too: a probe stuck on a half-open connection would never end the outage.
        const pool = this.connectedPool();
        await pool.query({ text: "SELECT 1", query_timeout: this.queryTimeoutMs } as QueryConfig);
        // Before writes are taken again, so usually before a retry finds such a job done. Any
        // other failure leaves it to the heartbeats: the database does answer.
        await this.uncertain.confirm(pool, this.queryTimeoutMs).catch((error: unknown) => {
          if (isConnectionError(error)) throw error;
        });
      },
      options.probeIntervalMs,
      // The listening connection may have broken in the outage, or be waiting to reconnect.
      () => this.feed?.ensureListening(),
    );
  }

  async open(): Promise<void> {
    if (this.pool) return;
    const { pool: given, connectionString, maxConnections, schema, probeIntervalMs } = this.options;
    const pool =
      given ??
      createPool({
        connectionString,
        max: maxConnections,
        connectTimeoutMs: this.connectTimeoutMs,
        queryTimeoutMs: this.queryTimeoutMs,
        applicationName: POOL_APPLICATION_NAME,
      });
    pool.on("error", ignoreIdleClientError);
    const instanceId = randomUUID();
    const feed = new ChangeFeed(
      this.listenerConfig(),
      this.channel,
      { retryDelayMs: probeIntervalMs, checkIntervalMs: this.options.listenerCheckMs ?? LISTENER_CHECK_MS, queryTimeoutMs: this.queryTimeoutMs },
      {
        notified: (payload) => this.notified(payload),
        reconnected: () => this.listeners.tell(undefined),
      },
    );
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
    this.forgetHolds();
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
    this.uncertain.clear();
    // Best effort: a hold left behind only delays another instance's takeover by leaseMs.
    await pool.query(`UPDATE ${this.tables.deliveries} SET holder = NULL, lease_until = NULL WHERE holder = $1`, [this.instanceId]).catch(() => undefined);
    this.forgetHolds();
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
      // The job of a delivery this instance holds changes only when this instance completes the
      // delivery (its status is terminal, so no status change moves it; prune leaves unprocessed
      // jobs alone): while the hold is surely live, the job as the statement that made the
      // delivery returned it is the job as it is.
      const hold = this.heldByRef.get(ref);
      if (hold?.job && this.trusted(hold)) return hold.job;
      return this.reads.job(pool, ref);
    });
  }

  jobByProviderId(provider: string, jobId: string): Promise<JobRecord | undefined> {
    return this.read("read the job", (pool) => this.reads.jobByProviderId(pool, provider, jobId));
  }

  listJobs(listing: JobListing): Promise<JobRecord[]> {
    return this.read("list the jobs", (pool) => this.reads.listJobs(pool, listing));
  }

  pendingJobs(): Promise<JobRecord[]> {
    return this.read("list the pending jobs", (pool) => this.reads.pendingJobs(pool));
  }

  pendingDelivery(ref: string): Promise<DeliveryRecord | undefined> {
    return this.read("read the job's delivery", (pool) => this.reads.pendingDelivery(pool, ref));
  }

  deadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return this.read("read the dead letter", (pool) => this.reads.deadLetter(pool, id));
  }

  deadLetters(): Promise<DeadLetterRecord[]> {
    return this.read("list the dead letters", (pool) => this.reads.deadLetters(pool));
  }

  readTranscript(ref: string): Promise<Transcript | undefined> {
    return this.read("read the transcript", (pool) => this.reads.readTranscript(pool, ref));
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
      const transcript = change.status === "completed" && change.transcript ? JSON.stringify(change.transcript) : null;
      const event = terminal && change.event && transcript === null ? JSON.stringify(change.event) : null;
      const sentAt = performance.now();
      const pending = { ref, change, terminal, event, transcript, deliveryId: randomUUID() };
      // Only a change with its transcript completes the job; a terminal event without one becomes a delivery.
      const row = await this.whileCompleting(transcript === null ? undefined : ref, this.statusChanges.submit(pending));
      if (row) {
        const job = jobFromRow(row, this.location);
        const deliveryId = (row.delivery_id as string | null) ?? undefined;
        if (deliveryId !== undefined) {
          this.unprocessed += 1;
          this.added += 1;
          // The delivery as the database now holds it (a json column keeps the text it was given),
          // validated as a read would be: the worker's claim of it moments later needs no statement.
          const delivery = deliveryFromRow(
            { id: deliveryId, ref: job.ref, job_id: row.job_id, event: JSON.parse(event!), fetched: null, received_at: row.delivery_received_at },
            this.location,
          );
          this.hold({ delivery, job, leaseFrom: sentAt });
        }
        return { outcome: "advanced", job, ...(deliveryId !== undefined && { deliveryId }) };
      }
      // Nothing moved: why, as the job is now.
      const job = await this.reads.job(pool, ref);
      if (!job) return { outcome: "missing" };
      return { outcome: job.jobId !== undefined && job.jobId !== change.jobId ? "foreign" : "unchanged", job };
    });
  }

  /**
   * Status changes of several jobs as one statement, so one transaction: each job moves only
   * forward and only if it follows its change's provider job id (concurrent changes wait for the
   * row and re-check), each terminal event of a job that moved becomes a delivery held by this
   * instance, or, with its transcript, the job is stored processed, and each job that moved is
   * announced at commit (a processed one to every instance, as a completion is). The row of each
   * change's job if it moved (with `delivery_id` and `delivery_received_at`), in the order of
   * `pending`.
   */
  private async applyStatusChanges(pending: PendingStatusChange[]): Promise<(Record<string, unknown> | undefined)[]> {
    // By ref: the jobs are updated (and locked) in the order they come, so a batch of another
    // replica that shares some of them locks those in the same order rather than in a deadlock.
    const changes = [...pending].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    const completion = this.uncertain.begin(changes.filter(({ transcript }) => transcript !== null).map(({ ref }) => ref));
    const statement = this.connectedPool().query(
      `${completion.marker}WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::bigint[], $6::text[], $7::boolean[], $8::text[], $9::json[], $10::json[])
                    AS i(ref, job_id, status, status_rank, at, error, terminal, delivery_id, event, transcript)
       ), moved AS (
         UPDATE ${this.tables.jobs} j
            SET job_id = i.job_id, status = i.status, status_rank = i.status_rank, updated_at = i.at, error = coalesce(i.error, j.error),
                finished_at = CASE WHEN i.terminal THEN i.at ELSE j.finished_at END,
                processed = j.processed OR i.transcript IS NOT NULL,
                completed_by = CASE WHEN i.transcript IS NOT NULL THEN $16::uuid ELSE j.completed_by END
           FROM input i
          WHERE j.ref = i.ref AND j.status_rank < i.status_rank AND (j.job_id IS NULL OR j.job_id = i.job_id)
      RETURNING ${JOB_COLUMNS.split(", ").map((column) => `j.${column}`).join(", ")}
       ), delivered AS (
         INSERT INTO ${this.tables.deliveries} (id, ref, job_id, event, received_at, holder, lease_until)
         SELECT i.delivery_id, moved.ref, moved.job_id, i.event, i.at, $11::uuid, now() + $12::interval
           FROM moved JOIN input i ON i.ref = moved.ref
          WHERE i.event IS NOT NULL
      RETURNING id, ref, received_at
       ), kept AS (
         INSERT INTO ${this.tables.transcripts} (ref, body)
         SELECT moved.ref, i.transcript FROM moved JOIN input i ON i.ref = moved.ref WHERE i.transcript IS NOT NULL
         ON CONFLICT (ref) DO UPDATE SET body = EXCLUDED.body
       )
       SELECT moved.*, delivered.id AS delivery_id, delivered.received_at AS delivery_received_at,
              pg_notify($13, CASE WHEN moved.processed THEN $15 ELSE $14 END || moved.ref)
         FROM moved LEFT JOIN delivered ON delivered.ref = moved.ref`,
      [
        changes.map(({ ref }) => ref),
        changes.map(({ change }) => change.jobId),
        changes.map(({ change }) => change.status),
        changes.map(({ change }) => statusRank(change.status)),
        changes.map(({ change }) => change.at),
        changes.map(({ change }) => change.error ?? null),
        changes.map(({ terminal }) => terminal),
        changes.map(({ deliveryId }) => deliveryId),
        changes.map(({ event }) => event),
        changes.map(({ transcript }) => transcript),
        this.instanceId,
        this.lease,
        this.channel,
        this.payload(""),
        `${EVERY_INSTANCE}:`,
        completion.id,
      ],
    );
    const { rows } = await this.uncertain.track(completion, statement);
    const byRef = new Map(rows.map((row) => [row.ref as string, row as Record<string, unknown>]));
    return pending.map(({ ref }) => byRef.get(ref));
  }

  claim(deliveryId: string): Promise<DeliveryRecord | undefined> {
    return this.write("claim the delivery", async (pool) => {
      // Held by this instance with a lease that surely runs (no other instance can have taken it,
      // nor completed it): the delivery as this instance last wrote or read it.
      const held = this.held.get(deliveryId);
      if (held && this.trusted(held) && isSettled(held.delivery)) return held.delivery;
      const sentAt = performance.now();
      const { rows } = await pool.query(
        `UPDATE ${this.tables.deliveries} SET holder = $2, lease_until = now() + $3::interval
          WHERE id = $1 AND (holder IS NULL OR holder = $2 OR lease_until < now())
      RETURNING ${DELIVERY_COLUMNS}`,
        [deliveryId, this.instanceId, this.lease],
      );
      if (!rows[0]) {
        this.release(deliveryId);
        return undefined;
      }
      const delivery = deliveryFromRow(rows[0], this.location);
      this.hold({ delivery, leaseFrom: sentAt });
      return delivery;
    });
  }

  takeOver(): Promise<DeliveryRecord[]> {
    return this.write("take over deliveries", async (pool) => {
      const sentAt = performance.now();
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
      for (const delivery of deliveries) this.hold({ delivery, leaseFrom: sentAt });
      return deliveries;
    });
  }

  keepFetchedResult(deliveryId: string, fetched: ProviderEvent): Promise<void> {
    return this.write("keep the fetched result", async (pool) => {
      const { rows } = await pool.query(`UPDATE ${this.tables.deliveries} SET fetched = $2::json WHERE id = $1 RETURNING ${DELIVERY_COLUMNS}`, [deliveryId, JSON.stringify(fetched)]);
      // A delivery this instance holds: remembered as it is now.
      const held = this.held.get(deliveryId);
      if (held && rows[0]) held.delivery = deliveryFromRow(rows[0], this.location);
    });
  }

  completeDelivery(deliveryId: string, outcome: DeliveryOutcome, at: number): Promise<boolean> {
    return this.write("complete the delivery", async () => {
      // Not answered from memory while this runs, nor after it failed (it may have committed
      // before the connection broke), until a renewal sent afterwards shows it is still held.
      const held = this.held.get(deliveryId);
      if (held) doubt(held);
      let completed: { dead_lettered: boolean } | undefined;
      try {
        completed = await this.whileCompleting(held?.delivery.ref, this.completions.submit({ deliveryId, ref: held?.delivery.ref, outcome, at }));
      } catch (error) {
        if (held) doubt(held);
        throw error;
      }
      this.release(deliveryId);
      if (completed && !completed.dead_lettered) this.unprocessed -= 1;
      return completed !== undefined;
    });
  }

  /**
   * Completions of several deliveries as one statement, so one transaction: only the holder
   * deletes a delivery (its dead letter goes with it, ON DELETE CASCADE), and only for a deleted
   * one are the transcript stored, the job marked processed (and failed, for an error) and the
   * job announced at commit; every part reads the deleted delivery's ref, so nothing is written
   * for a delivery this instance does not hold. Whether each was completed, in the order of
   * `completions`.
   */
  private async applyCompletions(completions: PendingCompletion[]): Promise<({ dead_lettered: boolean } | undefined)[]> {
    const { deliveries, deadLetters, transcripts, jobs } = this.tables;
    const completion = this.uncertain.begin(completions.flatMap(({ ref, outcome }) => (ref !== undefined && outcome.kind === "completed" ? [ref] : [])));
    const statement = this.connectedPool().query<{ id: string; dead_lettered: boolean }>(
      `${completion.marker}WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::json[], $5::text[]) AS i(id, kind, at, transcript, error)
       ), done AS (
         DELETE FROM ${deliveries} d USING input i
          WHERE d.id = i.id AND d.holder = $6::uuid
      RETURNING d.id, d.ref, i.kind, i.at, i.transcript, i.error,
                EXISTS (SELECT 1 FROM ${deadLetters} l WHERE l.delivery_id = d.id) AS dead_lettered
       ), kept AS (
         INSERT INTO ${transcripts} (ref, body) SELECT ref, transcript FROM done WHERE kind = 'completed'
         ON CONFLICT (ref) DO UPDATE SET body = EXCLUDED.body
       ), marked AS (
         UPDATE ${jobs} j
            SET processed = true, updated_at = done.at,
                status = CASE WHEN done.kind = 'error' THEN 'error' ELSE j.status END,
                status_rank = CASE WHEN done.kind = 'error' THEN $7::smallint ELSE j.status_rank END,
                error = CASE WHEN done.kind = 'error' THEN done.error ELSE j.error END,
                finished_at = CASE WHEN done.kind = 'error' THEN coalesce(j.finished_at, done.at) ELSE j.finished_at END,
                completed_by = CASE WHEN done.kind = 'completed' THEN $10::uuid ELSE j.completed_by END
           FROM done
          WHERE j.ref = done.ref AND done.kind <> 'already-processed'
       )
       SELECT done.id, done.dead_lettered, pg_notify($8, $9 || done.ref) FROM done`,
      [
        completions.map(({ deliveryId }) => deliveryId),
        completions.map(({ outcome }) => outcome.kind),
        completions.map(({ at }) => at),
        completions.map(({ outcome }) => (outcome.kind === "completed" ? JSON.stringify(outcome.transcript) : null)),
        completions.map(({ outcome }) => (outcome.kind === "error" ? (outcome.error ?? null) : null)),
        this.instanceId,
        ERROR_RANK,
        this.channel,
        `${EVERY_INSTANCE}:`,
        completion.id,
      ],
    );
    const { rows } = await this.uncertain.track(completion, statement);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return completions.map(({ deliveryId }) => byId.get(deliveryId));
  }

  saveDeadLetter(deadLetter: DeadLetterRecord): Promise<void> {
    return this.write("store the dead letter", async (pool) => {
      const { id, deliveryId, ref, jobId, error, attempts, failedAt } = deadLetter;
      // Given up below: not answered from memory any more, even if this fails after committing.
      const held = this.held.get(deliveryId);
      if (held) doubt(held);
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
      this.release(deliveryId);
      await this.refreshUnprocessed(pool);
    });
  }

  watch(listener: (ref: string | undefined) => void): () => void {
    return this.listeners.add(listener);
  }

  watchLateCompletions(listener: (ref: string, transcript: Transcript) => void): () => void {
    return this.uncertain.watch(listener);
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
    if (isPoolWaitTimeout(error) && this.poolIsFull()) {
      // A pool of the application's with a `connectionTimeoutMillis` of its own: every connection
      // was busy with other queries all along. A busy pool, not an unreachable database.
      return new StoreError(
        this.location,
        `Cannot ${doing}: every connection of the pool stayed busy for the pool's connectionTimeoutMillis (the database is not unreachable: a larger pool or a longer timeout takes such bursts)`,
        { cause: error },
      );
    }
    if (isConnectionError(error)) this.health.lost(error);
    return toStoreError(this.location, doing, error);
  }

  /** Every connection the pool may open is open (and, when a wait for one timed out, was busy). */
  private poolIsFull(): boolean {
    const pool = this.pool;
    return pool !== undefined && pool.totalCount >= (pool.options.max ?? 10);
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
      const holds = [...this.held.values()];
      if (holds.length > 0) {
        const sentAt = performance.now();
        const { rows } = await pool.query<{ id: string }>(
          `UPDATE ${this.tables.deliveries} SET lease_until = now() + $3::interval WHERE holder = $1 AND id = ANY($2::text[]) RETURNING id`,
          [this.instanceId, holds.map((hold) => hold.delivery.id), this.lease],
        );
        const renewed = new Set(rows.map((row) => row.id));
        for (const hold of holds) {
          const id = hold.delivery.id;
          // Held anew meanwhile (by a statement sent after this one): that statement tells.
          if (this.held.get(id) !== hold) continue;
          // A renewal sent before a write that may have given the delivery up proves nothing.
          if (renewed.has(id)) {
            if (sentAt > hold.doubtedAt) hold.leaseFrom = Math.max(hold.leaseFrom, sentAt);
          }
          // Not renewed: processed, or taken over by another instance after this one stalled.
          else if (hold.leaseFrom <= sentAt) this.release(id);
        }
      }
      await this.refreshUnprocessed(pool);
      await this.uncertain.confirm(pool, this.queryTimeoutMs);
    } catch (error) {
      // The next beat tries again; an unreachable database also starts the health probe.
      this.failure("renew the leases", error);
    }
  }

  /** Remembers a delivery this instance now holds (replacing what it knew of it). */
  private hold(known: { delivery: DeliveryRecord; job?: JobRecord; leaseFrom: number }): void {
    const hold: Hold = { ...known, doubtedAt: Number.NEGATIVE_INFINITY };
    this.release(hold.delivery.id);
    this.held.set(hold.delivery.id, hold);
    this.heldByRef.set(hold.delivery.ref, hold);
  }

  /** Forgets a delivery this instance no longer holds. */
  private release(deliveryId: string): void {
    const hold = this.held.get(deliveryId);
    if (!hold) return;
    this.held.delete(deliveryId);
    if (this.heldByRef.get(hold.delivery.ref) === hold) this.heldByRef.delete(hold.delivery.ref);
  }

  private forgetHolds(): void {
    this.held.clear();
    this.heldByRef.clear();
  }

  /**
   * Whether the hold's lease surely still runs, by this process's monotonic clock: the database
   * set `lease_until = now() + leaseMs` after `leaseFrom`, and another instance takes a
   * delivery only once `lease_until` is past. Only a share of the lease counts (see
   * `TRUSTED_LEASE_SHARE`), which leaves room for clocks that run at slightly different rates.
   */
  private trusted(hold: Hold): boolean {
    return performance.now() - hold.leaseFrom < this.options.leaseMs * TRUSTED_LEASE_SHARE;
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

  /** A status change's payload, `<instance id>:<ref>`: the instance, so that it can ignore its own (see `EVERY_INSTANCE`). */
  private payload(ref: string): string {
    return `${this.instanceId}:${ref}`;
  }

  /**
   * Tells the listeners about a notification's ref, unless it is one of this instance's own status
   * changes; about a job this instance is completing, once that write has settled.
   */
  private notified(payload: string): void {
    const separator = payload.indexOf(":");
    if (separator < 0 || payload.slice(0, separator) === this.instanceId) return;
    const ref = payload.slice(separator + 1);
    if (this.completing.has(ref)) this.heldBack.add(ref);
    else this.listeners.tell(ref);
  }

  /**
   * The outcome of `write`, which may complete the job `ref` here. Its commit's notification can
   * arrive before its answer; held back until the write has settled, it reaches the follower after
   * the caller has announced the job (which follows the answer in the same turn of the event loop),
   * so the job's waiters here are resolved by its announcement, with its shared files revoked.
   * This narrows the race, it does not close it: a follower's read already under way, or one after
   * the listener reconnected, may still see the job processed first; so may one after a lost
   * answer, whose announcement waits for `UncertainCompletions`. Another instance's notification
   * about the job waits too, at most as long as the write (bounded by the query timeout).
   */
  private async whileCompleting<T>(ref: string | undefined, write: Promise<T>): Promise<T> {
    if (ref === undefined) return write;
    this.completing.set(ref, (this.completing.get(ref) ?? 0) + 1);
    try {
      return await write;
    } finally {
      const left = this.completing.get(ref)! - 1;
      if (left > 0) this.completing.set(ref, left);
      else {
        this.completing.delete(ref);
        if (this.heldBack.delete(ref)) setImmediate(() => this.listeners.tell(ref));
      }
    }
  }

  /**
   * The listening connection's settings: those of the pool, under a name of its own. It is the
   * store's own connection, so it is never left unbounded: TCP keep-alive (see
   * `KEEP_ALIVE_INITIAL_DELAY_MS`), and connection attempts bounded by `connectTimeoutMs`, unless
   * a given pool sets a delay or a timeout of its own. Its statements are bounded by the feed
   * (`queryTimeoutMs`).
   */
  private listenerConfig(): ClientConfig {
    const { pool, connectionString } = this.options;
    const base: ClientConfig = pool ? { ...pool.options } : { connectionString };
    return {
      ...base,
      connectionTimeoutMillis: base.connectionTimeoutMillis || this.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: base.keepAliveInitialDelayMillis || KEEP_ALIVE_INITIAL_DELAY_MS,
      application_name: LISTENER_APPLICATION_NAME,
    };
  }
}

/** A status change waiting for its batch: `event` as JSON text (a terminal one's), `deliveryId` the id its delivery would get. */
interface PendingStatusChange {
  ref: string;
  change: StatusChange;
  terminal: boolean;
  /** The terminal event as JSON, to keep as a delivery. */
  event: string | null;
  /** The transcript as JSON, to keep with the job marked processed (no delivery then). */
  transcript: string | null;
  deliveryId: string;
}

interface PendingCompletion {
  deliveryId: string;
  /** The delivery's job, known while this instance holds the delivery: without it, a lost answer is not looked up. */
  ref: string | undefined;
  outcome: DeliveryOutcome;
  at: number;
}

/** A delivery this instance holds, as it last wrote or read it. */
interface Hold {
  delivery: DeliveryRecord;
  /** Its job, as the statement that made the delivery returned it. */
  job?: JobRecord;
  /**
   * `performance.now()` before the statement that last set the delivery's `lease_until` to
   * `now() + leaseMs` was sent (queueing for a pooled connection included): its lease runs at
   * least until `leaseFrom + leaseMs`. `-Infinity` while that is not known.
   */
  leaseFrom: number;
  /** `performance.now()` when a write that may give the delivery up last started or failed: only a renewal sent later counts. */
  doubtedAt: number;
}

/** Stops answering `hold` from memory until a renewal sent from now on shows it is still held. */
function doubt(hold: Hold): void {
  hold.leaseFrom = Number.NEGATIVE_INFINITY;
  hold.doubtedAt = performance.now();
}

/**
 * Whether `delivery` may be answered from memory: its event is a final answer, or it has one
 * fetched (kept by this instance). Another instance writes a delivery's `fetched` only while
 * it has neither (a duplicate webhook that brings the result), so such a delivery is read again.
 */
function isSettled(delivery: DeliveryRecord): boolean {
  return isFinalAnswer(delivery.event) || (delivery.fetched !== undefined && isFinalAnswer(delivery.fetched));
}
