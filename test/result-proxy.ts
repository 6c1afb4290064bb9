import { type IncomingMessage, type ServerResponse, createServer, request as forward } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy answers a result fetch with instead of the emulator's answer. */
export interface ResultAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface ResultProxy {
  /** Point the provider's `baseUrl` here. */
  url: string;
  /** Result fetches (`GET /v1/transcripts/{id}`) that reached the proxy. */
  resultFetches(): number;
  /** Answer result fetches with this, or never (`"never"`); `undefined` passes them on to the emulator. */
  answerResults(answer: ResultAnswer | "never" | undefined): void;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of the emulator whose result endpoint can be made to fail, counting
 * the requests that reach it: the provider's side of a retry budget.
 */
export async function startResultProxy(emulatorUrl: string): Promise<ResultProxy> {
  const target = new URL(emulatorUrl);
  let fetches = 0;
  let override: ResultAnswer | "never" | undefined;
  const pass = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const upstream = forward({ host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on("error", () => outgoing.destroy());
    incoming.pipe(upstream);
  };
  const server = createServer((incoming, outgoing) => {
    if (incoming.method === "GET" && /^\/v1\/transcripts\/[^/]+$/.test(incoming.url ?? "")) {
      fetches++;
      if (override === "never") return;
      if (override) {
        incoming.resume();
        outgoing.writeHead(override.status, { "content-type": override.contentType });
        outgoing.end(override.body);
        return;
      }
    }
    pass(incoming, outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    resultFetches: () => fetches,
    answerResults: (answer) => {
      override = answer;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
