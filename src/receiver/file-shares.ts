import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, resolve } from "node:path";
import { contentTypeOf } from "../shared/content-types.js";
import { ConfigurationError } from "../errors/index.js";

/** URL path prefix of shared files. */
export const FILES_PREFIX = "/files/";

interface Share {
  path: string;
  size: number;
}

/**
 * Local audio files lent to the provider through the receiver, so no upload service is needed:
 * each share has its own unguessable URL, `/files/{token}/{name}`, that answers until its job is
 * done (or its submit failed) and 404 afterwards. Shares live in memory: a restart ends them.
 */
export class FileShares {
  private readonly shares = new Map<string, Share>();
  /** Token of each owner's share: the owner (a job's local ref) ends it. */
  private readonly tokens = new Map<string, string>();

  /** Shares `path` for `owner` until `revoke(owner)`; returns the URL path to hand out. */
  async share(path: string, owner: string): Promise<string> {
    if (typeof path !== "string" || path === "") throw new ConfigurationError(`transcribeFile needs the path of a local audio file; got ${String(path)}`);
    const absolute = resolve(path);
    let size: number;
    try {
      const info = await stat(absolute);
      if (!info.isFile()) throw new Error("not a regular file");
      size = info.size;
    } catch (error) {
      throw new ConfigurationError(`Cannot share ${absolute} with the provider: ${(error as Error).message}`, { cause: error });
    }
    const token = randomBytes(24).toString("base64url");
    this.shares.set(token, { path: absolute, size });
    this.tokens.set(owner, token);
    return `${FILES_PREFIX}${token}/${encodeURIComponent(basename(absolute))}`;
  }

  /** Ends `owner`'s share, if it has one: its URL answers 404 from now on. */
  revoke(owner: string): void {
    const token = this.tokens.get(owner);
    if (token === undefined) return;
    this.tokens.delete(owner);
    this.shares.delete(token);
  }

  /** Answers a request under `/files/`. */
  serve(request: IncomingMessage, response: ServerResponse, pathname: string): void {
    const [token = "", name] = pathname.slice(FILES_PREFIX.length).split("/");
    const share = this.shares.get(token);
    // The name must match too: an engine guessing siblings (call.txt next to call.wav) gets a 404, not the audio.
    if (!share || name !== encodeURIComponent(basename(share.path))) {
      return end(response, 404, "no shared file at this URL (its job has ended?)");
    }
    if (request.method !== "GET" && request.method !== "HEAD") return end(response, 405, "shared files are read with GET");
    response.writeHead(200, {
      "content-type": contentTypeOf(share.path),
      "content-length": share.size,
      "cache-control": "no-store",
    });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    // pipeline, not pipe: a client that goes away mid-download must release the file descriptor.
    pipeline(createReadStream(share.path), response).catch(() => undefined);
  }
}

function end(response: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}
