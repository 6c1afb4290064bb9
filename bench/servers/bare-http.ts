import { serveFromChild } from "./child-protocol.js";
import { plainHttpServer } from "./plain-http-server.js";

/**
 * The floor: node:http reading each body and answering 200, nothing else. Whatever the machine
 * and Node spend on HTTP alone shows here, so the receiver's figures can be read as a ratio.
 */
serveFromChild(async () => {
  const server = await plainHttpServer(() => 200);
  return {
    url: server.url,
    async finish() {
      await server.close();
      return {};
    },
  };
});
