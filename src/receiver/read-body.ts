import type { IncomingMessage } from "node:http";
import type { ByteBudget } from "./byte-budget.js";

/**
 * How reading a body ended: `read` (the caller gives `body.length` back to the budget once done
 * with it), `too-large` (past `maxBytes`), `over-budget` (the budget could not hold it) or
 * `aborted` (the client went away first). Only a `read` body holds budget bytes.
 */
export type BodyRead = { kind: "read"; body: Buffer } | { kind: "too-large" } | { kind: "over-budget" } | { kind: "aborted" };

export interface BodyLimits {
  maxBytes: number;
  budget: ByteBudget;
  /** Called once the declared size passed both limits, before a byte is read: where `100 Continue` is sent. */
  onAdmitted: () => void;
}

/**
 * Reads a request body within its limits, stopping as soon as one is passed rather than after
 * buffering it all. A declared `Content-Length` is checked, and taken from the budget whole,
 * before anything is read; a chunked body takes from the budget as it arrives.
 */
export function readBody(request: IncomingMessage, limits: BodyLimits): Promise<BodyRead> {
  const { maxBytes, budget } = limits;
  const declared = declaredLength(request);
  if (declared !== undefined && declared > maxBytes) return Promise.resolve({ kind: "too-large" });
  if (declared !== undefined && !budget.take(declared)) return Promise.resolve({ kind: "over-budget" });
  let taken = declared ?? 0;
  limits.onAdmitted();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyRead) => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onAborted);
      request.off("close", onAborted);
      budget.give(result.kind === "read" ? taken - size : taken);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish({ kind: "too-large" });
      if (size > taken) {
        if (!budget.take(size - taken)) return finish({ kind: "over-budget" });
        taken = size;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: "read", body: Buffer.concat(chunks, size) });
    // Node reports a client gone mid-body as an "aborted" error, then a close.
    const onAborted = () => finish({ kind: "aborted" });
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onAborted);
    request.on("close", onAborted);
  });
}

/** The `Content-Length` the request declares; `undefined` for a chunked body. */
function declaredLength(request: IncomingMessage): number | undefined {
  const declared = request.headers["content-length"];
  return declared === undefined ? undefined : Number(declared);
}
