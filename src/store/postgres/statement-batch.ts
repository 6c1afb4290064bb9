import { isConnectionError } from "./failures.js";

/**
 * Runs the items of one kind of write in batches, each batch one statement: an item submitted
 * while no batch is in flight goes at once, alone; items submitted while one is in flight wait
 * for it and then go together, in the order they came, at most `maxItems` at a time and never two
 * of the same key in one batch (the later one waits for the next).
 *
 * This is what lets many writes that NOTIFY commit at once: PostgreSQL commits the transactions
 * that sent a notification one at a time (each holds a database-wide lock from its pre-commit to
 * the end of its WAL flush), so N such statements cost N flushes in a row, one batch of N one.
 *
 * A batch is all or nothing (one statement). When it fails because of one of its items (the
 * server refused the statement: nothing was written), each item is run again alone, so that
 * item fails alone; when the connection failed, every item of the batch fails with that error.
 */
export class StatementBatch<I, R> {
  private waiting: Waiting<I, R>[] = [];
  private running = false;

  constructor(
    private readonly options: {
      maxItems: number;
      key: (item: I) => string;
      /** Runs one batch as one statement: the result of each item, in the order of `items`. */
      run: (items: I[]) => Promise<R[]>;
    },
  ) {}

  /** Runs `item` in the next batch; settles once that batch's statement has (committed). */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) await this.runBatch(this.nextBatch());
    } finally {
      this.running = false;
    }
  }

  private nextBatch(): Waiting<I, R>[] {
    const batch: Waiting<I, R>[] = [];
    const keys = new Set<string>();
    const left: Waiting<I, R>[] = [];
    for (const waiting of this.waiting) {
      const key = this.options.key(waiting.item);
      if (batch.length < this.options.maxItems && !keys.has(key)) {
        batch.push(waiting);
        keys.add(key);
      } else {
        left.push(waiting);
      }
    }
    this.waiting = left;
    return batch;
  }

  private async runBatch(batch: Waiting<I, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await this.options.run(batch.map((waiting) => waiting.item));
    } catch (error) {
      if (batch.length === 1 || !refusedByServer(error)) {
        for (const waiting of batch) waiting.reject(error);
        return;
      }
      await Promise.all(batch.map((waiting) => this.runBatch([waiting])));
      return;
    }
    batch.forEach((waiting, index) => waiting.resolve(results[index]!));
  }
}

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * The server refused the statement (an error message of the server's, with its severity and
 * SQLSTATE): it wrote nothing, so its items may run again. Not so for a broken connection, or a
 * server going away: the statement may have committed.
 */
function refusedByServer(error: unknown): boolean {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return error instanceof Error && typeof code === "string" && typeof severity === "string" && !isConnectionError(error);
}
