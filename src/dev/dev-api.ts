import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { submitRequestSchema } from "../providers/generic-wire.js";
import { constantTimeEqual } from "../verification/constant-time.js";
import { headerValue } from "../verification/verification.js";
import type { Logger } from "../shared/logger.js";
import { transcriptBody } from "./dev-job.js";
import type { ResolvedFaults } from "./dev-provider-options.js";
import type { DevProviderStats } from "./dev-provider-stats.js";
import { HttpError, parseJsonBody, readBody, sendError, sendJson } from "./http-io.js";
import type { JobRunner } from "./job-runner.js";
import type { JobTable } from "./job-table.js";
import { servePublicFile } from "./public-files.js";

interface DevApiConfig {
  apiKey: string;
  publicDir: string | undefined;
  faults: ResolvedFaults;
  jobs: JobTable;
  runner: JobRunner;
  stats: DevProviderStats;
  /** Aborted on close: requests cut short by it are not errors worth logging. */
  signal: AbortSignal;
  logger: Logger;
}

interface Route {
  method: string;
  /** Matched against the path; its first group, if any, is handed to `handle`. */
  pattern: RegExp;
  handle(req: IncomingMessage, res: ServerResponse, param: string): Promise<void>;
}

/** The reference protocol's HTTP API, plus `GET /files/<name>` when a `publicDir` is set. */
export class DevApi {
  private readonly routes: Route[];
  private submitsToFail: number;

  constructor(private readonly config: DevApiConfig) {
    this.submitsToFail = config.faults.failFirstSubmits;
    this.routes = [
      { method: "POST", pattern: /^\/v1\/transcripts$/, handle: (req, res) => this.submit(req, res) },
      { method: "GET", pattern: /^\/v1\/transcripts\/([^/]+)$/, handle: (req, res, id) => this.fetchTranscript(req, res, id) },
      { method: "POST", pattern: /^\/v1\/transcripts\/([^/]+)\/redeliver$/, handle: (req, res, id) => this.redeliver(req, res, id) },
    ];
    const { publicDir } = config;
    if (publicDir) {
      this.routes.push({ method: "GET", pattern: /^\/files\/(.+)$/, handle: (_req, res, name) => servePublicFile(res, publicDir, name) });
    }
  }

  readonly listener: RequestListener = (req, res) => {
    this.config.stats.requests++;
    this.dispatch(req, res).catch((error: unknown) => this.answerFailure(res, error));
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? "/", "http://dev-provider.invalid");
    const route = this.routes.find((candidate) => candidate.pattern.test(pathname));
    if (!route) throw new HttpError(404, `No such endpoint: ${req.method} ${pathname}`);
    if (req.method !== route.method) {
      throw new HttpError(405, `${req.method} is not allowed on ${pathname}; use ${route.method}`, { allow: route.method });
    }
    await route.handle(req, res, route.pattern.exec(pathname)?.[1] ?? "");
  }

  private async submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { stats, jobs, runner, faults } = this.config;
    stats.submits++;
    this.authenticate(req);
    if (this.submitsToFail > 0) {
      this.submitsToFail--;
      throw new HttpError(503, "Simulated outage (faults.failFirstSubmits): retry the submit");
    }
    const request = parseJsonBody(await readBody(req), submitRequestSchema);
    if (!/^https?:$/.test(new URL(request.webhook_url).protocol)) {
      throw new HttpError(400, "Invalid request body: webhook_url must be an http or https URL");
    }
    const key = headerValue(req.headers, "idempotency-key");
    const earlier = key === undefined ? undefined : jobs.forIdempotencyKey(key);
    if (earlier) return sendJson(res, 201, { job_id: earlier.jobId, status: "queued" });

    const job = jobs.create(request, key);
    if (faults.webhookBeforeSubmitResponse) await runner.finishBeforeAnswer(job);
    sendJson(res, 201, { job_id: job.jobId, status: "queued" });
    if (!faults.webhookBeforeSubmitResponse) runner.start(job);
  }

  private async fetchTranscript(req: IncomingMessage, res: ServerResponse, jobId: string): Promise<void> {
    this.config.stats.statusFetches++;
    this.authenticate(req);
    sendJson(res, 200, transcriptBody(this.config.jobs.require(jobId)));
  }

  private async redeliver(req: IncomingMessage, res: ServerResponse, jobId: string): Promise<void> {
    this.authenticate(req);
    // The API only starts the round; its outcome shows in jobs() and deadLetters().
    void this.config.runner.redeliver(this.config.jobs.require(jobId));
    sendJson(res, 202, { status: "redelivering" });
  }

  private authenticate(req: IncomingMessage): void {
    const token = /^Bearer\s+(.+)$/i.exec(headerValue(req.headers, "authorization") ?? "")?.[1];
    if (token === undefined || !constantTimeEqual(token.trim(), this.config.apiKey)) {
      throw new HttpError(401, "Missing or wrong API key: send Authorization: Bearer <apiKey>", {
        "www-authenticate": "Bearer",
      });
    }
  }

  private answerFailure(res: ServerResponse, error: unknown): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) return sendError(res, error);
    if (!this.config.signal.aborted) this.config.logger.error({ err: error }, "dev provider request failed");
    sendError(res, new HttpError(500, "Internal error in the dev provider"));
  }
}
