import { readFile } from "node:fs/promises";
import type { Adapter } from "lowdb";
import { StoreError } from "../errors/index.js";
import { documentSource, writeDocument } from "./document-writer.js";
import { type StoreDocument, storeDocumentSchema } from "./records.js";

/**
 * lowdb adapter for the store document. Unlike lowdb's own JSONFile it writes with mode 0600,
 * can fsync, refuses (rather than replaces) a file it cannot parse, and behaves the same under
 * NODE_ENV=test, where lowdb's presets quietly switch to memory.
 */
export class StoreFileAdapter implements Adapter<StoreDocument> {
  constructor(
    readonly path: string,
    private readonly options: { fsync: boolean },
  ) {}

  async read(): Promise<StoreDocument | null> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new StoreError(this.path, `Cannot read the store file: ${(error as Error).message}`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new StoreError(
        this.path,
        "The store file is not valid JSON (edited by hand, or written by something else?). " +
          "hookscribe will not overwrite it: fix it, or move it away to start with an empty store",
        { cause: error },
      );
    }
    const parsed = storeDocumentSchema.safeParse(json);
    if (!parsed.success) {
      throw new StoreError(
        this.path,
        `The store file does not have the layout this version expects (${parsed.error.issues[0]?.message ?? "invalid"} ` +
          `at ${parsed.error.issues[0]?.path.join(".") || "top level"}). hookscribe will not overwrite it`,
      );
    }
    return parsed.data;
  }

  /** lowdb's `db.write()`; `data` must not change until it resolves (the store's own snapshots copy what changes). */
  async write(data: StoreDocument): Promise<void> {
    await writeDocument(this.path, documentSource(data), this.options);
  }
}
