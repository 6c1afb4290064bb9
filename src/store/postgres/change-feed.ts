import pg from "pg";
import type { ClientConfig } from "pg";

/** The longest wait between two attempts to reconnect the listening connection. */
const MAX_RECONNECT_DELAY_MS = 5000;

export interface ChangeFeedEvents {
  /** A notification on the channel, with its payload. */
  notified: (payload: string) => void;
  /** The connection dropped and is listening again: notifications sent meanwhile are lost. */
  reconnected: () => void;
}

/**
 * `LISTEN` on one channel over a connection of its own (a pooled one would be handed to other
 * queries and stop listening). When the connection drops it reconnects, waiting longer after each
 * failed attempt, and says so once it listens again.
 */
export class ChangeFeed {
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly retryDelayMs: number,
    private readonly events: ChangeFeedEvents,
  ) {}

  /** Listens, or rejects when the database cannot be reached. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
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
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private dropped(client: pg.Client): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.reconnect(0);
  }

  private reconnect(attempt: number): void {
    const delay = Math.min(this.retryDelayMs * 2 ** attempt, MAX_RECONNECT_DELAY_MS);
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (!this.stopped) this.events.reconnected();
        },
        () => {
          if (!this.stopped) this.reconnect(attempt + 1);
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }
}
