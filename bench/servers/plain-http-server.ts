import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback node:http server that reads each body whole and answers the status `answer` gives,
 * as the baselines need: the bare floor and the obvious lowdb implementation differ only there.
 */
export async function plainHttpServer(answer: (request: http.IncomingMessage, rawBody: Buffer) => number | Promise<number>) {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void Promise.resolve()
        .then(() => answer(request, Buffer.concat(chunks)))
        .catch(() => 500)
        .then((status) => response.writeHead(status, { "content-type": "application/json" }).end(status === 200 ? '{"ok":true}' : "{}"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
