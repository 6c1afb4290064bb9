import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { resolveCaptionOptions } from "../src/captions/options.js";
import { resolveDevProviderOptions } from "../src/dev/dev-provider-options.js";
import { resolveToolOptions } from "../src/langchain/tool-options.js";
import { resolveMcpServerOptions } from "../src/mcp/options.js";
import { resolveTranscriberOptions } from "../src/options.js";
import pg from "pg";
import { resolvePostgresStoreOptions } from "../src/postgres/postgres-store-options.js";
import { genericProvider, resolveGenericProviderOptions } from "../src/providers/generic.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** One property of an options interface, as an editor's hover shows it. */
interface Member {
  name: string;
  optional: boolean;
  type: string;
  doc: string;
  tags: Map<string, string>;
}

/** The members of interface `name`, looked up in `files` (a .d.ts bundle may put it in a shared chunk). */
function membersOf(files: ts.SourceFile[], name: string): { members: Member[]; text: string } {
  for (const file of files) {
    const declaration = file.statements.find((node): node is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(node) && node.name.text === name);
    if (!declaration) continue;
    const members = declaration.members.map((member) => {
      if (!ts.isPropertySignature(member)) throw new Error(`${name} has a member that is not a property: ${member.getText(file)}`);
      const jsDoc = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc).at(-1);
      return {
        name: member.name.getText(file),
        optional: member.questionToken !== undefined,
        type: member.type?.getText(file) ?? "",
        doc: ts.getTextOfJSDocComment(jsDoc?.comment)?.trim() ?? "",
        tags: new Map((jsDoc?.tags ?? []).map((tag) => [tag.tagName.text, ts.getTextOfJSDocComment(tag.comment)?.trim() ?? ""])),
      };
    });
    return { members, text: declaration.getText(file) };
  }
  throw new Error(`interface ${name} is not declared in ${files.map((file) => file.fileName).join(", ")}`);
}

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
}

/** The names an entry's declaration file exports (`export { A, type B }`, `export { W as Word } from './chunk.js'`). */
function exportedNames(file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const node of file.statements) {
    if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const element of node.exportClause.elements) names.add(element.name.text);
    }
  }
  return names;
}

/** The newest modification time of a file under `dir`, in ms. */
function newestChange(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs),
  );
}

/** Options types a user meets in the published declarations: the interface, its entry and its source. */
const PUBLISHED = [
  { name: "TranscriberOptions", entry: "index.d.ts", source: "src/options.ts" },
  { name: "TranscribeOptions", entry: "index.d.ts", source: "src/transcribe-options.ts" },
  { name: "JobsFilter", entry: "index.d.ts", source: "src/job-summary.ts" },
  { name: "ReceiverOptions", entry: "index.d.ts", source: "src/options.ts" },
  { name: "RetryOptions", entry: "index.d.ts", source: "src/options.ts" },
  { name: "GenericProviderOptions", entry: "index.d.ts", source: "src/providers/generic.ts" },
  { name: "ProviderRequestOptions", entry: "index.d.ts", source: "src/providers/provider-api.ts" },
  { name: "ProviderRetryOptions", entry: "index.d.ts", source: "src/providers/provider-api.ts" },
  { name: "CaptionOptions", entry: "index.d.ts", source: "src/captions/options.ts" },
  { name: "TranscribeToolOptions", entry: "langchain.d.ts", source: "src/langchain/tool-options.ts" },
  { name: "DevProviderOptions", entry: "dev.d.ts", source: "src/dev/dev-provider-options.ts" },
  { name: "DevProviderFaults", entry: "dev.d.ts", source: "src/dev/dev-provider-options.ts" },
  { name: "PostgresStoreOptions", entry: "postgres.d.ts", source: "src/postgres/postgres-store-options.ts" },
] as const;

describe("the published .d.ts shows every option with its doc comment and default", () => {
  let dir: string;
  let built: string | undefined;
  let declarations: ts.SourceFile[];

  beforeAll(() => {
    // `npm test` builds dist/ before vitest runs; a dist/ older than src/ (a run of this file
    // alone) is rebuilt into a temp dir, never over dist/.
    const dist = join(ROOT, "dist");
    if (existsSync(join(dist, "index.d.ts")) && statSync(join(dist, "index.d.ts")).mtimeMs >= newestChange(join(ROOT, "src"))) {
      dir = dist;
    } else {
      built = mkdtempSync(join(tmpdir(), "hookscribe-dts-"));
      execFileSync("npx", ["tsup", "--out-dir", built, "--silent"], { cwd: ROOT, stdio: "pipe" });
      dir = built;
    }
    declarations = readdirSync(dir)
      .filter((file) => file.endsWith(".d.ts"))
      .map((file) => parse(join(dir, file)));
  }, 180_000);

  afterAll(() => {
    if (built) rmSync(built, { recursive: true, force: true });
  });

  it.each(PUBLISHED)("$name in $entry", ({ name, entry, source }) => {
    expect(exportedNames(parse(join(dir, entry)))).toContain(name);
    const published = membersOf(declarations, name);
    const written = membersOf([parse(join(ROOT, source))], name);

    // Every field of the source interface, with the same type and the same doc.
    expect(published.members.map((member) => member.name)).toEqual(written.members.map((member) => member.name));
    expect(published.text).not.toMatch(/Zod|\bz\./);
    for (const member of published.members) {
      const where = `${name}.${member.name}`;
      const original = written.members.find((candidate) => candidate.name === member.name)!;
      expect(member.type, where).toBe(original.type);
      expect(member.doc.length, `${where} has a doc comment`).toBeGreaterThan(10);
      if (member.optional) {
        expect(member.tags.get("default"), `${where} has a @default`).toBeTruthy();
      } else {
        expect(member.doc, `${where} says it is required`).toMatch(/Required\./);
      }
    }
  });
});

/** What the `@default` tag states, when it states a value (`4`, `3_600_000 (1 hour)`, `"text"`, `[1, 2]`). */
function statedValue(tag: string): { value: unknown } | undefined {
  const literal = /^(-?\d[\d_]*(?:\.\d+)?|"(?:[^"\\]|\\.)*"|true|false|\[[^\]]*\])(?=\s|$)/.exec(tag)?.[1];
  if (literal === undefined) return undefined;
  return { value: JSON.parse(/^-?\d/.test(literal) ? literal.replace(/_/g, "") : literal) };
}

const provider = genericProvider({ baseUrl: "https://stt.example.com", apiKey: "key", webhookSecret: "secret" });
const transcriber = () => resolveTranscriberOptions({ provider });
const generic = () => resolveGenericProviderOptions({ baseUrl: "https://stt.example.com", apiKey: "key", webhookSecret: "secret" });

/** Each options interface, where it is written, and its options as the code resolves `{}` (plus the required ones). */
const RESOLVED: [name: string, source: string, resolve: () => object][] = [
  ["TranscriberOptions", "src/options.ts", transcriber],
  ["ReceiverOptions", "src/options.ts", () => transcriber().receiver],
  ["RetryOptions", "src/options.ts", () => transcriber().retry],
  ["GenericProviderOptions", "src/providers/generic.ts", generic],
  ["ProviderRequestOptions", "src/providers/provider-api.ts", generic],
  ["ProviderRetryOptions", "src/providers/provider-api.ts", () => generic().retry],
  ["CaptionOptions", "src/captions/options.ts", () => resolveCaptionOptions({})],
  ["TranscribeToolOptions", "src/langchain/tool-options.ts", () => resolveToolOptions({})],
  ["McpServerOptions", "src/mcp/options.ts", () => resolveMcpServerOptions({})],
  ["DevProviderOptions", "src/dev/dev-provider-options.ts", () => resolveDevProviderOptions({})],
  ["DevProviderFaults", "src/dev/dev-provider-options.ts", () => resolveDevProviderOptions({}).faults],
  ["PostgresStoreOptions", "src/postgres/postgres-store-options.ts", () => resolvePostgresStoreOptions({ pool: new pg.Pool() })],
];

/** Defaults computed at run time, which the doc describes in words. */
const COMPUTED: Record<string, RegExp | string> = {
  "DevProviderOptions.apiKey": /^dev_[0-9a-f]{32}$/,
  "DevProviderOptions.webhookSecret": /^whsec_[A-Za-z0-9+/]{32}$/,
  "McpServerOptions.version": packageJson.version,
};

describe("every @default states the default the code applies", () => {
  it.each(RESOLVED)("%s", (name, source, resolve) => {
    const resolved = resolve() as Record<string, unknown>;
    for (const member of membersOf([parse(join(ROOT, source))], name).members) {
      const where = `${name}.${member.name}`;
      const tag = member.tags.get("default");
      if (!member.optional || tag === undefined) continue;
      const stated = statedValue(tag);
      const actual = resolved[member.name];
      if (stated) {
        expect(actual, where).toEqual(stated.value);
      } else if (where in COMPUTED) {
        expect(actual, where).toMatch(COMPUTED[where]!);
      } else {
        // Described in words: only for what has no single value to state (a nested group, a function, "none").
        expect(typeof actual === "object" || typeof actual === "function" || actual === undefined, `${where}: state "@default ${String(actual)}"`).toBe(true);
      }
    }
  });
});
