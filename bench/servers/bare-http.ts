import http from "node:http";
import type { AddressInfo } from "node:net";
import { serveFromChild } from "./child-protocol.js";

/**
 * The floor: node:http reading each body and answering 200, nothing else. Whatever the machine
 * and Node spend on HTTP alone shows here, so the receiver's figures can be read as a ratio.
 */
serveFromChild(async () => {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      Buffer.concat(chunks); // the body as a handler would get it, then thrown away
      response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async finish() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      return {};
    },
  };
});
