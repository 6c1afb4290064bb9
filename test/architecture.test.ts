import { readFile, readdir } from "node:fs/promises";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The layout is the architecture: imports flow one way between folders (`src/` itself counts as
 * a folder: the façade and the entry import the parts, the parts never import the façade back),
 * and no file imports itself through a loop.
 */

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const PACKAGE_ENTRIES: Record<string, string> = {
  hookscribe: "index.ts",
  "hookscribe/dev": "dev/index.ts",
  "hookscribe/langchain": "langchain/index.ts",
  "hookscribe/postgres": "postgres/index.ts",
};
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [])),
  );
  return files.flat();
}

/** Every src file (relative to src/) and the src files it imports. */
async function importGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  for (const file of await sourceFiles(SRC)) {
    const from = relative(SRC, file);
    const targets = new Set<string>();
    for (const match of (await readFile(file, "utf8")).matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      if (specifier in PACKAGE_ENTRIES) targets.add(PACKAGE_ENTRIES[specifier]!);
      else if (specifier.startsWith(".") && specifier.endsWith(".js")) targets.add(normalize(join(dirname(from), specifier)).replace(/\.js$/, ".ts"));
    }
    graph.set(from, targets);
  }
  return graph;
}

/** The strongly connected components with more than one node: each is a loop. */
function loops(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("architecture", () => {
  it("every relative import names a file that exists", async () => {
    const graph = await importGraph();
    const missing = [...graph].flatMap(([from, targets]) => [...targets].filter((target) => !graph.has(target)).map((target) => `${from} -> ${target}`));
    expect(missing).toEqual([]);
  });

  it("no import loop between files", async () => {
    expect(loops(await importGraph())).toEqual([]);
  });

  it("no import loop between folders", async () => {
    const folders = new Map<string, Set<string>>();
    for (const [from, targets] of await importGraph()) {
      const folder = dirname(from);
      const edges = folders.get(folder) ?? new Set<string>();
      for (const target of targets) if (dirname(target) !== folder) edges.add(dirname(target));
      folders.set(folder, edges);
    }
    expect(loops(folders)).toEqual([]);
  });

  it("finds a loop where there is one", () => {
    const graph = new Map([
      ["receiver", new Set(["providers"])],
      ["providers", new Set(["receiver"])],
      ["store", new Set<string>()],
    ]);
    expect(loops(graph)).toEqual([["providers", "receiver"]]);
  });
});
