import type { FileHandle } from "node:fs/promises";
import { type Stats, statSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { syncDirectory } from "./atomic-write.js";

/** Which file an open handle writes to: the device and inode it had when it was opened. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * Whether `path` still names the file with `identity`. A write into a file that was removed or
 * replaced (its folder deleted or moved) succeeds, yet nobody will ever read it: such a write
 * must not count as stored. Synchronous: the stat of a file in a folder just written to is
 * answered from the kernel's caches in a few microseconds, where a trip through libuv's thread
 * pool would add tens of them to every ack.
 */
export function isStillAtPath(path: string, identity: FileIdentity): boolean {
  let onDisk: Stats | undefined;
  try {
    onDisk = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") return false;
    throw error;
  }
  return onDisk?.dev === identity.dev && onDisk.ino === identity.ino;
}

/**
 * Creates (or opens) `name` in `dir` to append to, mode 0600, with its identity. With `fsync`,
 * the directory entry is made durable too, or power loss could drop the new file. A failure
 * after the file was created removes it again.
 */
export async function openForAppend(dir: string, name: string, options: { fsync: boolean }): Promise<{ handle: FileHandle } & FileIdentity> {
  const path = join(dir, name);
  const handle = await open(path, "a", 0o600);
  try {
    const { dev, ino } = await handle.stat();
    if (options.fsync) await syncDirectory(dir);
    return { handle, dev, ino };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
}
