import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request the proxy passed on: where to, what it carried (a webhook's `job_id` and `status`) and the answer. */
export interface ProxiedRequest {
  /** Index in `RoundRobinProxy.log`. */
  seq: number;
  backend: string;
  method: string;
  path: string;
  jobId?: string;
  status?: string;
  /** The backend's status code, or 502 when it could not be reached (refused, reset). */
  code: number;
}

/**
 * A small round-robin reverse proxy (node:http), the load balancer in front of the replicas:
 * each request goes to the next backend in turn; a backend that cannot be reached makes it answer
 * `502` (senders retry). Bodies are buffered (webhooks are small) so that each request's JSON
 * `job_id` and `status` can be logged with the backend's answer.
 */
export class RoundRobinProxy {
  readonly log: ProxiedRequest[] = [];
  private readonly backends: string[] = [];
  private next = 0;
  /** A connection per request: no idle connection to a backend that it may close under a new request. */
  private readonly agent = new http.Agent({ keepAlive: false });

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<RoundRobinProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new RoundRobinProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", (req, res) => proxy.handle(req, res));
    return proxy;
  }

  add(backend: string): void {
    this.backends.push(backend);
  }

  /** Takes a backend out of the rotation (a health check found it dead). */
  remove(backend: string): void {
    const index = this.backends.indexOf(backend);
    if (index >= 0) this.backends.splice(index, 1);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.agent.destroy();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (this.backends.length === 0) {
        res.writeHead(503).end("no backend");
        return;
      }
      const backend = this.backends[this.next++ % this.backends.length]!;
      const entry: ProxiedRequest = { seq: this.log.length, backend, method: req.method ?? "GET", path: req.url ?? "/", code: 0, ...webhookFields(body) };
      this.log.push(entry);
      const target = new URL(req.url ?? "/", backend);
      const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host, "content-length": String(body.length) };
      delete headers.connection;
      delete headers["keep-alive"];
      delete headers["transfer-encoding"];
      const upstream = http.request(target, { method: req.method, headers, agent: this.agent }, (answer) => {
        entry.code = answer.statusCode ?? 0;
        const answerHeaders: http.OutgoingHttpHeaders = { ...answer.headers };
        delete answerHeaders.connection;
        delete answerHeaders["keep-alive"];
        res.writeHead(entry.code, answerHeaders);
        answer.pipe(res);
        answer.on("error", () => res.destroy());
      });
      upstream.on("error", () => {
        if (entry.code !== 0) {
          res.destroy();
          return;
        }
        entry.code = 502;
        if (!res.headersSent) res.writeHead(502).end("bad gateway");
        else res.destroy();
      });
      upstream.end(body);
    });
  }
}

function webhookFields(body: Buffer): { jobId?: string; status?: string } {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { job_id?: unknown; status?: unknown };
    return {
      ...(typeof parsed.job_id === "string" && { jobId: parsed.job_id }),
      ...(typeof parsed.status === "string" && { status: parsed.status }),
    };
  } catch {
    return {};
  }
}
