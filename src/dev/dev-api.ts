import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { z } from "zod";
import type { Logger } from "../shared/logger.js";
import type { EmulatedJob, JobSubmission } from "./dev-job.js";
import type { ResolvedFaults } from "./dev-provider-options.js";
import type { DevProviderStats } from "./dev-provider-stats.js";
import type { Dialect, DialectApi, DialectRoute } from "./dialect.js";
import { type BodyRefusal, HttpError, drainRequestBody, parseJsonBody, send, sendJson } from "./http-io.js";
import type { JobRunner } from "./job-runner.js";
import type { JobTable } from "./job-table.js";
import { servePublicFile } from "./public-files.js";

interface DevApiConfig<R> {
  dialect: Dialect<R>;
  apiKey: string;
  publicDir: string | undefined;
  faults: ResolvedFaults;
  jobs: JobTable<R>;
  runner: JobRunner<R>;
  stats: DevProviderStats;
  /** Aborted on close: requests cut short by it are not errors worth logging. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * The emulator's HTTP API: the dialect's routes behind its API key check, plus `GET /files/<name>`
 * when a `publicDir` is set. Failures are answered in the dialect's error format.
 */
export class DevApi<R> implements DialectApi<R> {
  private readonly routes: DialectRoute[];
  private submitsToFail: number;

  constructor(private readonly config: DevApiConfig<R>) {
    this.submitsToFail = config.faults.failFirstSubmits;
    this.routes = config.dialect.routes(this);
  }

  readonly listener: RequestListener = (req, res) => {
    this.config.stats.requests++;
    this.dispatch(req, res).catch((error: unknown) => this.answerFailure(res, error));
  };

  async submit(
    res: ServerResponse,
    submission: JobSubmission<R>,
    idempotencyKey: string | undefined,
    answer: (job: EmulatedJob<R>) => { status: number; body: unknown },
  ): Promise<void> {
    const { jobs, runner, faults, dialect } = this.config;
    if (this.submitsToFail > 0) {
      this.submitsToFail--;
      throw new HttpError(503, "Simulated outage (faults.failFirstSubmits): retry the submit");
    }
    const earlier = idempotencyKey === undefined ? undefined : jobs.forIdempotencyKey(idempotencyKey);
    if (earlier) {
      const { status, body } = answer(earlier);
      return sendJson(res, status, body);
    }
    const job = jobs.create(submission, idempotencyKey, () => dialect.newJobId());
    if (faults.webhookBeforeSubmitResponse) await runner.finishBeforeAnswer(job);
    const { status, body } = answer(job);
    sendJson(res, status, body);
    if (!faults.webhookBeforeSubmitResponse) runner.start(job);
  }

  job(jobId: string): EmulatedJob<R> {
    const { jobs, dialect } = this.config;
    if (dialect.notFound && !jobs.get(jobId)) throw dialect.notFound(jobId);
    return jobs.require(jobId);
  }

  redeliver(job: EmulatedJob<R>): void {
    // The API only starts the round; its outcome shows in jobs() and deadLetters().
    void this.config.runner.redeliver(job);
  }

  async readJson<S extends z.ZodType>(req: IncomingMessage, schema: S, refuse?: BodyRefusal): Promise<z.output<S>> {
    return parseJsonBody(await drainRequestBody(req), schema, refuse);
  }

  readBody(req: IncomingMessage): Promise<Buffer> {
    return drainRequestBody(req);
  }

  sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
    sendJson(res, status, body, headers);
  }

  send(res: ServerResponse, status: number, contentType: string, text: string): void {
    send(res, status, contentType, text);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? "/", "http://dev-provider.invalid");
    const { publicDir, dialect, apiKey } = this.config;
    if (publicDir && pathname.startsWith("/files/")) {
      if (req.method !== "GET") throw new HttpError(405, `${req.method} is not allowed on ${pathname}; use GET`, { allow: "GET" });
      return servePublicFile(res, publicDir, pathname.slice("/files/".length));
    }
    const route = this.routes.find((candidate) => candidate.pattern.test(pathname));
    if (!route) throw new HttpError(404, `No such endpoint: ${req.method} ${pathname}`);
    if (req.method !== route.method) {
      throw new HttpError(405, `${req.method} is not allowed on ${pathname}; use ${route.method}`, { allow: route.method });
    }
    if (route.counts) this.config.stats[route.counts]++;
    if (!dialect.hasApiKey(req, apiKey)) throw new HttpError(401, dialect.unauthorized.message, dialect.unauthorized.headers);
    await route.handle(req, res, route.pattern.exec(pathname)?.slice(1) ?? []);
  }

  private answerFailure(res: ServerResponse, error: unknown): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const failure = error instanceof HttpError ? error : new HttpError(500, "Internal error in the dev provider");
    if (!(error instanceof HttpError) && !this.config.signal.aborted) this.config.logger.error({ err: error }, "dev provider request failed");
    const { contentType, body } = this.config.dialect.errorBody(failure.status, failure.message);
    send(res, failure.status, contentType, JSON.stringify(failure.body ?? body), failure.headers);
  }
}
