import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: [
      { find: /^hookscribe\/dev$/, replacement: fileURLToPath(new URL("./src/dev/index.ts", import.meta.url)) },
      { find: /^hookscribe\/postgres$/, replacement: fileURLToPath(new URL("./src/postgres/index.ts", import.meta.url)) },
      { find: /^hookscribe\/langchain$/, replacement: fileURLToPath(new URL("./src/langchain/index.ts", import.meta.url)) },
      { find: /^hookscribe$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
