import pg from "pg";
import type { ClientConfig } from "pg";

/** The longest wait between two attempts to reconnect the listening connection. */
const MAX_RECONNECT_DELAY_MS = 5000;

/** How long ending the connection waits for the server's goodbye before it destroys the socket. */
const END_WAIT_MS = 1000;

export interface ChangeFeedEvents {
  /** A notification on the channel, with its payload. */
  notified: (payload: string) => void;
  /** The connection dropped and is listening again: notifications sent meanwhile are lost. */
  reconnected: () => void;
}

export interface ChangeFeedTiming {
  /** The first wait before reconnecting; it doubles after each failed attempt, up to `MAX_RECONNECT_DELAY_MS`. */
  retryDelayMs: number;
  /** How often the listening connection is checked with a statement (see `ChangeFeed`). */
  checkIntervalMs: number;
  /** How long any statement on it (`LISTEN`, a check) may go unanswered: pg's `query_timeout`. */
  queryTimeoutMs: number;
}

/**
 * `LISTEN` on one channel over a connection of its own (a pooled one would be handed to other
 * queries and stop listening). When the connection drops it reconnects, waiting longer after each
 * failed attempt, and says so once it listens again.
 *
 * A connection that only listens sends nothing, so one whose peer vanished without a word (a
 * half-open one) would look alive for as long as TCP does not give up, hours, while every
 * notification is lost. So it is checked every `checkIntervalMs` with `SELECT 1`: one that gets no
 * answer within `queryTimeoutMs` (or fails) counts as dropped, and is replaced.
 */
export class ChangeFeed {
  private client: pg.Client | undefined;
  /** While listening: the next check. While not: the next attempt to reconnect. */
  private timer: NodeJS.Timeout | undefined;
  /** A connection attempt is under way. */
  private connecting = false;
  /** A check is under way. */
  private checking = false;
  /** Failed attempts to reconnect since the connection dropped. */
  private attempts = 0;
  private stopped = true;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly timing: ChangeFeedTiming,
    private readonly events: ChangeFeedEvents,
  ) {}

  /** Listens, or rejects when the database cannot be reached. */
  async start(): Promise<void> {
    this.stopped = false;
    this.connecting = true;
    try {
      await this.connect();
    } finally {
      this.connecting = false;
    }
    this.scheduleCheck();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client) await this.end(client);
  }

  /**
   * Makes sure the feed listens, now rather than at its next check or attempt (the database is
   * reachable again after an outage): checks the connection it has, or reconnects at once.
   */
  ensureListening(): void {
    if (this.stopped || this.connecting) return;
    if (this.client) {
      void this.check(this.client);
      return;
    }
    clearTimeout(this.timer);
    this.attempts = 0;
    this.reconnectNow();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.config, query_timeout: this.timing.queryTimeoutMs });
    // Both also stop a dropped connection from crashing the process with an unhandled 'error'.
    client.on("error", () => this.dropped(client));
    client.on("end", () => this.dropped(client));
    client.on("notification", (message) => {
      if (message.payload !== undefined) this.events.notified(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      await this.end(client);
      throw error;
    }
    if (this.stopped) {
      await this.end(client);
      return;
    }
    this.client = client;
  }

  private end(client: pg.Client): Promise<void> {
    return endWithin(client, Math.min(END_WAIT_MS, this.timing.queryTimeoutMs));
  }

  private scheduleCheck(): void {
    const client = this.client;
    if (!client || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(client), this.timing.checkIntervalMs);
    this.timer.unref();
  }

  /** One `SELECT 1` on `client`; no answer in time, or a failure, drops it. */
  private async check(client: pg.Client): Promise<void> {
    if (client !== this.client || this.stopped || this.checking) return;
    // One check at a time: the next one is set once this one is answered.
    clearTimeout(this.timer);
    this.checking = true;
    try {
      await client.query("SELECT 1");
    } catch {
      this.dropped(client);
      return;
    } finally {
      this.checking = false;
    }
    this.scheduleCheck();
  }

  private dropped(client: pg.Client): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    clearTimeout(this.timer);
    // A statement still waiting on it makes pg destroy the socket rather than wait for a goodbye.
    void this.end(client);
    this.attempts = 0;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(this.timing.retryDelayMs * 2 ** this.attempts, MAX_RECONNECT_DELAY_MS);
    this.timer = setTimeout(() => this.reconnectNow(), delay);
    this.timer.unref();
  }

  private reconnectNow(): void {
    this.timer = undefined;
    this.connecting = true;
    this.connect().then(
      () => {
        this.connecting = false;
        if (this.stopped) return;
        this.scheduleCheck();
        this.events.reconnected();
      },
      () => {
        this.connecting = false;
        if (this.stopped) return;
        this.attempts += 1;
        this.scheduleReconnect();
      },
    );
  }
}

/**
 * Ends `client`, waiting at most `waitMs` for the server's goodbye: on a half-open connection it
 * never comes, and the socket is destroyed instead (also so that it keeps no process alive).
 */
async function endWithin(client: pg.Client, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), waitMs);
    timer.unref();
  });
  const ended = client.end().then(
    () => "ended" as const,
    () => "ended" as const,
  );
  if ((await Promise.race([ended, late])) === "late") client.connection.stream.destroy();
  clearTimeout(timer);
}
