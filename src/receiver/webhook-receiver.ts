import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebhookRequest } from "../verification/webhook-request.js";
import type { Logger } from "../shared/logger.js";
import { FILES_PREFIX, type FileShares } from "./file-shares.js";
import { BodyTooLargeError, readBody } from "./read-body.js";
import type { DeliveryInfo, Reply } from "./reply.js";
import { type WebhookRoute, parseWebhookPath } from "./webhook-route.js";

interface ReceiverConfig {
  host: string;
  port: number;
  path: string;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Verifies and stores deliveries; the receiver itself knows nothing of providers or jobs. */
interface DeliveryHandler {
  /** Refuses a delivery from its route and content type alone, before its body is read; `undefined` lets it in. */
  admit(route: WebhookRoute, contentType: string | undefined): Reply | undefined;
  /** Verifies, parses and stores an admitted delivery. */
  handle(route: WebhookRoute, request: WebhookRequest): Promise<Reply>;
}

interface ReceiverDeps {
  /** Verifies and stores a delivery that passed routing and limits. */
  handler: DeliveryHandler;
  /** Local files lent to providers (`client.transcribeFile`), served under `/files/`. */
  files: FileShares;
  /** Told about every answered webhook delivery. */
  onDelivery: (info: DeliveryInfo) => void;
  logger: Logger;
}

/**
 * The embedded `node:http` server. It does routing, limits and timeouts only; everything about
 * authenticity and storage belongs to the `DeliveryHandler`. It answers every bad request with
 * its own status and keeps serving.
 */
export class WebhookReceiver {
  private readonly server: Server;
  private inFlight = new Set<Promise<void>>();
  private accepting = true;

  constructor(
    private readonly config: ReceiverConfig,
    private readonly deps: ReceiverDeps,
  ) {
    // Node checks header and request timeouts every 30 s by default; check often enough to honour short ones.
    const connectionsCheckingInterval = Math.max(50, Math.min(1000, config.headersTimeoutMs / 2));
    this.server = createServer({ connectionsCheckingInterval }, (request, response) => {
      const done = this.serve(request, response).finally(() => this.inFlight.delete(done));
      this.inFlight.add(done);
    });
    // Slow or silent clients must not hold sockets: bound the headers and the whole request.
    this.server.headersTimeout = config.headersTimeoutMs;
    this.server.requestTimeout = config.requestTimeoutMs;
    this.server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) {
        socket.destroy(error);
        return;
      }
      // A slow client is told it was slow (408), not that it was malformed: senders stop retrying on 400.
      const status =
        error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  /** `http://host:port` of the listening server. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** From now on deliveries are answered `503`, which providers retry later. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Waits for in-flight deliveries, then closes every connection. */
  async close(): Promise<void> {
    this.stopAccepting();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.allSettled([...this.inFlight]);
    this.server.closeAllConnections();
    await closed;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const pathname = pathnameOf(request.url);
    if (pathname.startsWith(FILES_PREFIX)) {
      this.deps.files.serve(request, response, pathname);
      return;
    }
    const route = parseWebhookPath(pathname, this.config.path);
    const reply = await this.replyTo(request, route).catch((error: unknown): Reply => {
      this.deps.logger.error({ err: errorSummary(error), provider: route?.provider }, "webhook handler failed");
      return { status: 500, outcome: "refused", message: "internal error" };
    });
    send(request, response, reply.status, reply.message);
    const durationMs = Math.round(performance.now() - started);
    this.deps.logger.debug(
      { status: reply.status, jobId: reply.jobId, provider: route?.provider, ms: durationMs },
      reply.status === 200 ? "webhook acked" : `webhook refused: ${reply.message}`,
    );
    this.deps.onDelivery({
      statusCode: reply.status,
      outcome: reply.outcome,
      jobId: reply.jobId,
      provider: route?.provider,
      reason: reply.status === 200 ? undefined : reply.message,
      durationMs,
    });
  }

  private async replyTo(request: IncomingMessage, route: WebhookRoute | undefined): Promise<Reply> {
    if (!route) return { status: 404, outcome: "refused", message: "no webhook route at this path" };
    if (request.method !== "POST") return { status: 405, outcome: "refused", message: "webhooks must be POSTed" };
    if (!this.accepting) return { status: 503, outcome: "refused", message: "receiver is shutting down; retry later" };
    const contentType = mediaTypeOf(request.headers["content-type"]);
    // Route, token and content type are checked before the body is read: a stranger cannot make
    // the receiver buffer anything.
    const refused = this.deps.handler.admit(route, contentType);
    if (refused) return refused;
    let rawBody: Buffer;
    try {
      rawBody = await readBody(request, this.config.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return { status: 413, outcome: "refused", message: `body larger than ${this.config.maxBodyBytes} bytes` };
      throw error;
    }
    return this.deps.handler.handle(route, { headers: request.headers, query: queryOf(request.url), contentType, rawBody });
  }
}

function send(request: IncomingMessage, response: ServerResponse, status: number, message: string): void {
  if (response.headersSent) return;
  const body = JSON.stringify(status === 200 ? { ok: true } : { error: message });
  response.statusCode = status;
  response.setHeader("content-type", "application/json");
  response.setHeader("content-length", Buffer.byteLength(body));
  if (status === 405) response.setHeader("allow", "POST");
  // Answered before its body was read: close, so the unread body cannot linger on a kept-alive socket.
  if (!request.complete) response.setHeader("connection", "close");
  response.end(body);
}

/** The request target's path; `""` (no route) for a target `URL` cannot parse, e.g. a bad absolute form. */
function pathnameOf(target: string | undefined): string {
  try {
    return new URL(target ?? "/", "http://receiver").pathname;
  } catch {
    return "";
  }
}

/** `application/json; charset=utf-8` → `application/json`; `undefined` when there is no type. */
function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return type === "" ? undefined : type;
}

function queryOf(target: string | undefined): URLSearchParams {
  try {
    return new URL(target ?? "/", "http://receiver").searchParams;
  } catch {
    return new URLSearchParams();
  }
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: "Error", message: String(error) };
}
