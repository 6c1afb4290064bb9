import type { FileHandle } from "node:fs/promises";
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFully } from "./write-fully.js";

/**
 * Replaces `path` with what `write` writes to a fresh file, so that a crash at any moment leaves
 * either the old file or the new one, never a mix: write a private temp file, optionally fsync
 * it, rename over the target. A failure at any step removes the temp file again.
 */
export async function writeAtomically(path: string, write: (handle: FileHandle) => Promise<void>, options: { fsync: boolean }): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await write(handle);
    if (options.fsync) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  try {
    await handle.close();
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (options.fsync) await syncDirectory(dirname(path));
}

/** {@link writeAtomically} for content already in memory. */
export function writeFileAtomic(path: string, data: string | Buffer, options: { fsync: boolean }): Promise<void> {
  return writeAtomically(path, (handle) => writeFully(handle, typeof data === "string" ? Buffer.from(data) : data), options);
}

/** Makes a directory's entries (a rename, a new file) survive power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
