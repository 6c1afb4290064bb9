import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the old file or the
 * new one, never a mix: write a private temp file, optionally fsync it, rename over the target.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, options: { fsync: boolean }): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(data);
    if (options.fsync) await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (options.fsync) await syncDirectory(dirname(path));
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
