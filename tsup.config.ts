import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Options, defineConfig } from "tsup";

type EsbuildPlugin = NonNullable<Options["esbuildPlugins"]>[number];

const common: Options = { sourcemap: true, target: "node20", platform: "node" };

/** The main entry: the only bundle that holds the core's classes (client, job handle, errors). */
const main = { index: "src/index.ts" };

/**
 * The subpath entries. They import the core from `hookscribe` (the package's own name), which
 * stays external: in each module system there is one copy of every class, the one in `index.js` /
 * `index.cjs`, so `instanceof` works across entries.
 */
const subpaths = { langchain: "src/langchain/index.ts", dev: "src/dev/index.ts", postgres: "src/postgres/index.ts" };
const selfReference = [/^hookscribe($|\/)/];

/**
 * `pg` is an optional peer dependency, imported only by `hookscribe/postgres`: never bundled, so the
 * application's own copy is the one that connects (and the `pg.Pool` it passes is of that copy).
 */
const subpathExternal = [...selfReference, /^pg($|\/)/];

/**
 * Dependencies published only as ES modules. The ESM build imports them; the CommonJS build
 * carries them (and what they import), because esbuild's CommonJS interop cannot use them
 * through `require` (`import_ky.default.create is not a function`).
 */
const esmOnlyDependencies = [/^ky($|\/)/, /^p-queue($|\/)/, /^lowdb($|\/)/];

const ERRORS_DIR = fileURLToPath(new URL("./src/errors/", import.meta.url));

/**
 * In a subpath bundle, a relative import of src/errors/ (say from a shared helper that throws a
 * `ConfigurationError`) is taken from `hookscribe` instead of bundled: every error class is
 * exported by the main entry, and no second copy of one can slip into a subpath bundle.
 */
const errorsFromMainEntry: EsbuildPlugin = {
  name: "errors-from-main-entry",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      return target.startsWith(ERRORS_DIR) ? { path: "hookscribe", external: true } : undefined;
    });
  },
};

export default defineConfig(async (flags) => {
  // Cleaned once here: the builds below run in parallel, and a `clean` in one of them could
  // delete what another had already written.
  await rm(flags.outDir ?? "dist", { recursive: true, force: true });
  const builds: Options[] = [
    // Type declarations of the library entries, .d.ts and .d.cts, in one pass.
    { ...common, entry: { ...main, ...subpaths }, format: ["esm", "cjs"], external: subpathExternal, dts: { only: true } },
    { ...common, entry: main, format: ["esm"] },
    { ...common, entry: main, format: ["cjs"], noExternal: esmOnlyDependencies },
    { ...common, entry: subpaths, format: ["esm"], external: subpathExternal, esbuildPlugins: [errorsFromMainEntry] },
    { ...common, entry: subpaths, format: ["cjs"], external: subpathExternal, noExternal: esmOnlyDependencies, esbuildPlugins: [errorsFromMainEntry] },
    {
      // The `hookscribe` command: ESM only, run by node through its shebang. One self-contained
      // bundle (`hookscribe` and `hookscribe/dev` resolve to src/ through tsconfig.json `paths`),
      // except the PostgreSQL side: `--database-url` loads it with `import()`, a chunk of its own
      // (dist/postgres-commands-*.js), and `pg` stays external, so the command runs without pg.
      ...common,
      entry: { cli: "src/cli/main.ts" },
      format: ["esm"],
      external: [/^pg($|\/)/],
      banner: { js: "#!/usr/bin/env node" },
    },
  ];
  return builds;
});
