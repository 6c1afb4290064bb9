import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";

/**
 * A TCP proxy (node:net) between one client and a server, to cut the connection without touching
 * the server: `cut()` destroys every connection it carries and closes each new one at once until
 * `restore()`. `freeze()` makes every connection it carries half-open instead: bytes stop flowing
 * both ways, and neither side's socket is closed (a peer gone without a word, a NAT that forgot
 * the connection), while new connections pass as usual. `dropReplies()` stops only the server's
 * answers on the connections it carries. For a database used by other tests at the same time.
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Frozen connections: open, forwarding nothing. */
  private readonly stuck = new Set<[Socket, Socket]>();
  private refusing = false;
  /** Connections closed at once while cut. */
  refused = 0;
  /** Connections passed on. */
  accepted = 0;
  /** Connections frozen by `freeze()`. */
  frozen = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    server.on("connection", (client) => proxy.pass(client, target));
    return proxy;
  }

  get cutNow(): boolean {
    return this.refusing;
  }

  /** Drops every connection now and every new one until `restore()`. */
  cut(): void {
    this.refusing = true;
    for (const [client, upstream] of [...this.pairs, ...this.stuck]) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    this.stuck.clear();
  }

  /**
   * Stops forwarding on every connection open now, for good: no byte goes either way any more,
   * and no socket is closed (until `cut()` or `close()`). Connections opened afterwards pass.
   */
  freeze(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      this.frozen++;
    }
    // Still destroyed by cut() and close(), never forwarded again.
    for (const pair of this.pairs) this.stuck.add(pair);
    this.pairs.clear();
  }

  /**
   * From now on, on every connection open now, what the client sends still reaches the server and
   * what the server answers is dropped: a statement runs (and commits) and its answer is lost.
   */
  dropReplies(): void {
    for (const [client, upstream] of this.pairs) {
      upstream.unpipe(client);
      upstream.on("data", () => undefined);
    }
  }

  restore(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pass(client: Socket, target: { host: string; port: number }): void {
    if (this.refusing) {
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      this.stuck.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
