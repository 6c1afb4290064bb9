import { randomUUID } from "node:crypto";
import type { QueryConfig } from "pg";
import type { Transcript } from "../../domain/transcript.js";
import { isConnectionError } from "./failures.js";
import { Listeners } from "./listeners.js";
import { transcriptFromRow } from "./rows.js";
import type { Queryable, StoreTables } from "./store-reads.js";

/** A statement that stores transcripts with their jobs marked processed, as `UncertainCompletions.begin()` made it. */
export interface Completion {
  /** Written into `jobs.completed_by` of each job the statement completes. */
  id: string;
  /** Put first in the statement's text: `pg_stat_activity` then shows whether it still runs. */
  marker: string;
  /** The jobs it is to complete. */
  refs: string[];
}

/**
 * Completions whose outcome this instance does not know: statements that would have stored
 * transcripts and failed with their connection. Such a statement may have committed all the same
 * (the answer lost on the way back), or still commit later: the database runs a statement whose
 * client is gone until it ends, e.g. once a lock it waits for is free. Whoever retries the write
 * then finds the job done and announces nothing, so the announcement is due to this instance.
 *
 * `confirm()` waits for each such statement to be over (no longer `active` under its marker in
 * `pg_stat_activity`, which shows the sessions of the store's own role), then reads which jobs
 * carry its id in `completed_by`, and tells the listeners about their transcripts, once.
 */
export class UncertainCompletions {
  private readonly unknown = new Map<string, Completion>();
  private readonly listeners = new Listeners<[ref: string, transcript: Transcript]>();
  private confirming: Promise<void> | undefined;

  constructor(
    private readonly tables: StoreTables,
    private readonly location: string,
  ) {}

  /** A new completion of the jobs of `refs` (none: a statement that completes no job). */
  begin(refs: string[]): Completion {
    const id = randomUUID();
    return { id, marker: `/* hookscribe completion ${id} */ `, refs };
  }

  /** The outcome of `statement`, sent for `completion`; when its connection failed, the completion is kept to be confirmed. */
  async track<T>(completion: Completion, statement: Promise<T>): Promise<T> {
    try {
      return await statement;
    } catch (error) {
      if (completion.refs.length > 0 && isConnectionError(error)) this.unknown.set(completion.id, completion);
      throw error;
    }
  }

  watch(listener: (ref: string, transcript: Transcript) => void): () => void {
    return this.listeners.add(listener);
  }

  /**
   * Settles the completions whose statements are over; those the database still runs are kept
   * for the next call. One run at a time: a call during a run waits for that run.
   */
  confirm(db: Queryable, queryTimeoutMs: number): Promise<void> {
    if (this.unknown.size === 0) return Promise.resolve();
    this.confirming ??= this.settle(db, queryTimeoutMs).finally(() => {
      this.confirming = undefined;
    });
    return this.confirming;
  }

  /** Forgets them all (the store closes: nobody would be told). */
  clear(): void {
    this.unknown.clear();
  }

  private async settle(db: Queryable, queryTimeoutMs: number): Promise<void> {
    const ids = [...this.unknown.keys()];
    const running = await db.query<{ id: string }>({
      text: `SELECT c.id FROM unnest($1::text[]) AS c(id)
              WHERE EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.state = 'active' AND starts_with(a.query, '/* hookscribe completion ' || c.id || ' */'))`,
      values: [ids],
      query_timeout: queryTimeoutMs,
    } as QueryConfig);
    const stillRunning = new Set(running.rows.map((row) => row.id));
    const over = ids.flatMap((id) => (stillRunning.has(id) ? [] : [this.unknown.get(id)!]));
    if (over.length === 0) return;
    const { rows } = await db.query({
      text: `SELECT t.ref, t.body FROM ${this.tables.jobs} j JOIN ${this.tables.transcripts} t ON t.ref = j.ref
              WHERE j.ref = ANY($1::text[]) AND j.completed_by = ANY($2::uuid[])`,
      values: [over.flatMap(({ refs }) => refs), over.map(({ id }) => id)],
      query_timeout: queryTimeoutMs,
    } as QueryConfig);
    for (const { id } of over) this.unknown.delete(id);
    for (const row of rows) {
      let transcript: Transcript;
      try {
        transcript = transcriptFromRow(row, this.location);
      } catch {
        // Unreadable: whoever reads the job learns why; there is nothing to announce.
        continue;
      }
      this.listeners.tell(row.ref as string, transcript);
    }
  }
}
