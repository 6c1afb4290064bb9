import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * How long, and how much, of a refused body is read and dropped after the answer so that its
 * sender gets to read the answer: dropping costs no memory, the bounds keep a sender from holding
 * the connection with an endless body.
 */
const DISCARD_MAX_MS = 5_000;
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

export interface Answer {
  status: number;
  /** Sent as JSON. */
  body: object;
  headers?: Record<string, string>;
  /**
   * The sender must see this answer (a `413` or a `503`): when its body is still coming, the rest
   * is read and dropped before the socket closes. Closing on a sender that is still writing resets
   * the connection, and a sender that reads only once it sent everything never sees the status.
   */
  letFinish: boolean;
}

/**
 * Sends a JSON answer. A request whose body is still coming is answered with `Connection: close`,
 * so its unread body cannot linger on a kept-alive socket.
 */
export function sendAnswer(request: IncomingMessage, response: ServerResponse, answer: Answer): void {
  if (response.headersSent) return;
  const body = JSON.stringify(answer.body);
  response.statusCode = answer.status;
  response.setHeader("content-type", "application/json");
  response.setHeader("content-length", Buffer.byteLength(body));
  for (const [name, value] of Object.entries(answer.headers ?? {})) response.setHeader(name, value);
  if (request.complete) {
    response.end(body);
    return;
  }
  response.setHeader("connection", "close");
  if (!answer.letFinish) {
    response.end(body);
    return;
  }
  // The whole answer goes out now; ending the response (which closes the socket) waits for the body.
  response.write(body);
  discardRest(request, () => response.end());
}

function discardRest(request: IncomingMessage, then: () => void): void {
  // Gone already (the client left): nothing more will come, and its close event has passed.
  if (request.destroyed) return then();
  let discarded = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    request.off("data", onData);
    request.off("end", finish);
    request.off("close", finish);
    then();
  };
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) finish();
  };
  const timer = setTimeout(finish, DISCARD_MAX_MS).unref();
  request.on("data", onData);
  request.on("end", finish);
  request.on("close", finish);
  request.resume();
}
