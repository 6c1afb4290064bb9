import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { WebhookRequest } from "../verification/webhook-request.js";
import type { Logger } from "../shared/logger.js";
import { ByteBudget } from "./byte-budget.js";
import { FILES_PREFIX, type FileShares } from "./file-shares.js";
import { readBody } from "./read-body.js";
import type { DeliveryInfo, Reply } from "./reply.js";
import { sendAnswer } from "./send-answer.js";
import { type WebhookRoute, parseWebhookPath } from "./webhook-route.js";

/** `Retry-After` of a delivery refused for want of memory: bodies in flight are read and freed within moments. */
const BUSY_RETRY_AFTER_SEC = 1;
/** `Retry-After` of a delivery refused because the worker is behind: a backlog at its limit drains in seconds. */
const BACKLOG_RETRY_AFTER_SEC = 5;
/** `Retry-After` of a delivery refused during shutdown: a restart takes a few seconds at least. */
const SHUTDOWN_RETRY_AFTER_SEC = 5;

interface ReceiverConfig {
  host: string;
  port: number;
  path: string;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  maxBufferedBytes: number;
  maxBacklog: number;
}

/**
 * What the handler makes of a delivery from its route and content type alone, before its body is
 * read: a refusal, or the step that verifies and stores the body once it is read.
 */
export type Admission = { kind: "refused"; reply: Reply } | { kind: "admitted"; take: (request: WebhookRequest) => Promise<Reply> };

/** Verifies and stores deliveries; the receiver itself knows nothing of providers or jobs. */
interface DeliveryHandler {
  /** Decides whether a delivery's body is read at all. */
  admit(route: WebhookRoute, contentType: string | undefined): Promise<Admission>;
  /** Deliveries stored and not processed yet: the work the receiver has taken on and not finished. */
  backlog(): number;
  /** Whether deliveries can be stored now (the store accepts writes). */
  storeHealthy(): boolean;
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
  /** Whether the last delivery admitted found the backlog at its limit: the change is logged, not each refusal. */
  private saturated = false;
  private readonly budget: ByteBudget;
  /** The latest response on each socket: a timeout or parse error while its status is going out must not write a second status. */
  private readonly responses = new WeakMap<Socket, ServerResponse>();

  constructor(
    private readonly config: ReceiverConfig,
    private readonly deps: ReceiverDeps,
  ) {
    this.budget = new ByteBudget(config.maxBufferedBytes);
    // Node checks header and request timeouts every 30 s by default; check often enough to honour short ones.
    const connectionsCheckingInterval = Math.max(50, Math.min(1000, config.headersTimeoutMs / 2));
    this.server = createServer({ connectionsCheckingInterval }, (request, response) => this.onRequest(request, response, false));
    // Without this listener Node sends `100 Continue` to everyone; with it, only to a request the receiver admits.
    this.server.on("checkContinue", (request, response) => this.onRequest(request, response, true));
    // Slow or silent clients must not hold sockets: bound the headers and the whole request, and how many at once.
    this.server.headersTimeout = config.headersTimeoutMs;
    this.server.requestTimeout = config.requestTimeoutMs;
    this.server.maxConnections = config.maxConnections;
    this.server.on("drop", () => deps.logger.debug({ maxConnections: config.maxConnections }, "connection closed on arrival: receiver.maxConnections reached"));
    this.server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      const response = this.responses.get(socket as Socket);
      // Bytes after a request that said it was the last: that request still gets its own answer,
      // after which the socket closes as asked; the bytes are no request to answer.
      if (error.code === "HPE_CLOSED_CONNECTION") {
        if (!response || response.writableFinished) socket.destroy(error);
        return;
      }
      // A second status while an answer is going out (or its body's rest is dropped) would corrupt what the sender reads.
      if (!socket.writable || (response?.headersSent && !response.writableFinished)) {
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

  /** `expectsContinue`: the request waits for `100 Continue` before it sends its body. */
  private onRequest(request: IncomingMessage, response: ServerResponse, expectsContinue: boolean): void {
    this.responses.set(request.socket, response);
    const done = this.serve(request, response, expectsContinue).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async serve(request: IncomingMessage, response: ServerResponse, expectsContinue: boolean): Promise<void> {
    const started = performance.now();
    const target = parseTarget(request.url);
    const pathname = target?.pathname ?? "";
    if (pathname.startsWith(FILES_PREFIX)) {
      this.deps.files.serve(request, response, pathname);
      return;
    }
    if (pathname === `${this.config.path}/healthz`) {
      this.answerHealth(request, response);
      return;
    }
    const route = parseWebhookPath(pathname, this.config.path);
    let bodyInvited = !expectsContinue;
    const invite = () => {
      if (bodyInvited) return;
      response.writeContinue();
      bodyInvited = true;
    };
    const reply = await this.replyTo(request, route, target?.searchParams ?? new URLSearchParams(), invite).catch((error: unknown): Reply => {
      this.deps.logger.error({ err: errorSummary(error), provider: route?.provider }, "webhook handler failed");
      return { status: 500, outcome: "refused", message: "internal error" };
    });
    if (reply === "gone") {
      // Nobody is left to answer; a client can do this at will, so it is no error of the receiver's.
      this.deps.logger.debug({ provider: route?.provider }, "webhook sender went away before its request was complete");
      return;
    }
    sendAnswer(request, response, {
      status: reply.status,
      body: reply.status === 200 ? { ok: true } : { error: reply.message },
      headers: {
        ...(reply.status === 405 ? { allow: "POST" } : {}),
        ...(reply.retryAfterSec === undefined ? {} : { "retry-after": String(reply.retryAfterSec) }),
      },
      // A body the sender was not invited to send (it asked first) is not coming.
      letFinish: bodyInvited && (reply.status === 413 || reply.status === 503),
    });
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

  /** `GET {path}/healthz`: `200` while deliveries can be taken and stored, `503` naming why not. */
  private answerHealth(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== "GET" && request.method !== "HEAD") {
      sendAnswer(request, response, { status: 405, body: { error: "healthz is read with GET" }, headers: { allow: "GET, HEAD" }, letFinish: false });
      return;
    }
    const problem = !this.accepting ? "receiver is shutting down" : !this.deps.handler.storeHealthy() ? "store is not accepting writes" : undefined;
    sendAnswer(request, response, {
      status: problem === undefined ? 200 : 503,
      body: problem === undefined ? { ok: true } : { ok: false, error: problem },
      headers: { "cache-control": "no-store" },
      letFinish: false,
    });
  }

  /**
   * The answer to a webhook request, or `"gone"` when its client went away first. Everything
   * that can refuse a request without its body does so before a byte of the body is read.
   */
  private async replyTo(request: IncomingMessage, route: WebhookRoute | undefined, query: URLSearchParams, inviteBody: () => void): Promise<Reply | "gone"> {
    if (!route) return { status: 404, outcome: "refused", message: "no webhook route at this path" };
    if (request.method !== "POST") return { status: 405, outcome: "refused", message: "webhooks must be POSTed" };
    if (!this.accepting) return { status: 503, outcome: "refused", message: "receiver is shutting down; retry later", retryAfterSec: SHUTDOWN_RETRY_AFTER_SEC };
    const contentType = mediaTypeOf(request.headers["content-type"]);
    // Route, token, content type and backlog are checked before the body is read: a stranger
    // cannot make the receiver buffer anything, and a delivery that cannot be taken costs nothing.
    const admission = await this.deps.handler.admit(route, contentType);
    if (admission.kind === "refused") return admission.reply;
    const refused = this.backpressure();
    if (refused) return refused;
    const { maxBodyBytes } = this.config;
    const read = await readBody(request, { maxBytes: maxBodyBytes, budget: this.budget, onAdmitted: inviteBody });
    switch (read.kind) {
      case "too-large":
        return { status: 413, outcome: "refused", message: `body larger than ${maxBodyBytes} bytes` };
      case "over-budget":
        return { status: 503, outcome: "refused", message: "too many webhook bodies in memory at once; retry later", retryAfterSec: BUSY_RETRY_AFTER_SEC };
      case "aborted":
        return "gone";
    }
    try {
      return await admission.take({ headers: request.headers, query, contentType, rawBody: read.body });
    } finally {
      this.budget.give(read.body.length);
    }
  }

  /**
   * A `503` while `maxBacklog` deliveries wait to be processed: the provider keeps the delivery
   * and retries it later, so a burst the worker cannot keep up with grows neither memory nor the
   * store.
   */
  private backpressure(): Reply | undefined {
    const { maxBacklog } = this.config;
    const backlog = this.deps.handler.backlog();
    const saturated = backlog >= maxBacklog;
    if (saturated !== this.saturated) {
      this.saturated = saturated;
      if (saturated) this.deps.logger.warn({ backlog, maxBacklog }, "backlog at receiver.maxBacklog: deliveries are answered 503 until the worker catches up");
      else this.deps.logger.info({ backlog, maxBacklog }, "backlog below receiver.maxBacklog again: deliveries are taken");
    }
    if (!saturated) return undefined;
    return { status: 503, outcome: "refused", message: "too many deliveries waiting to be processed; retry later", retryAfterSec: BACKLOG_RETRY_AFTER_SEC };
  }
}

/** The request target as a URL; `undefined` (no route) for a target `URL` cannot parse, e.g. a bad absolute form. */
function parseTarget(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? "/", "http://receiver");
  } catch {
    return undefined;
  }
}

/** `application/json; charset=utf-8` → `application/json`; `undefined` when there is no type. */
function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return type === "" ? undefined : type;
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: "Error", message: String(error) };
}
