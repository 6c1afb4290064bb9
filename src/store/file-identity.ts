import { stat } from "node:fs/promises";

/** Which file an open handle writes to: the device and inode it had when it was opened. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * Whether `path` still names the file with `identity`. A write into a file that was removed or
 * replaced (its folder deleted or moved) succeeds, yet nobody will ever read it: such a write
 * must not count as stored.
 */
export async function isStillAtPath(path: string, identity: FileIdentity): Promise<boolean> {
  const onDisk = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
    throw error;
  });
  return onDisk?.dev === identity.dev && onDisk.ino === identity.ino;
}
