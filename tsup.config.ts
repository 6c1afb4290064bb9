import { defineConfig } from "tsup";

export default defineConfig([
  {
    // The library and its LangChain subpath: ESM and CJS, with types.
    entry: { index: "src/index.ts", langchain: "src/langchain/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    platform: "node",
  },
  {
    // The `hookscribe` command: ESM only, run by node through its shebang.
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    platform: "node",
    banner: { js: "#!/usr/bin/env node" },
  },
]);
