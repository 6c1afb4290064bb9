import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { StoreError } from "../errors/index.js";
import { toStoreError } from "./to-store-error.js";

/** Stores held by this process; a second client on one of them would interleave two journals. */
const heldHere = new Set<string>();

/**
 * One writer per store: a `<path>.lock` file holding the owner's pid. A lock left by a process
 * that no longer runs (a crash) is taken over.
 */
export class StoreLock {
  private readonly lockPath: string;

  constructor(private readonly storePath: string) {
    // Resolved, so "store.json" and "./store.json" are one store to the in-process check.
    this.lockPath = `${resolve(storePath)}.lock`;
  }

  async acquire(): Promise<void> {
    if (heldHere.has(this.lockPath)) {
      throw new StoreError(this.storePath, "Another Transcriber in this process already uses this store; give each client its own storePath");
    }
    await mkdir(dirname(this.lockPath), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw toStoreError(this.storePath, `Cannot create the store's folder ${dirname(this.lockPath)}`, error);
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeLockFile(this.lockPath);
        heldHere.add(this.lockPath);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new StoreError(this.storePath, `Cannot create the lock file ${this.lockPath}: ${(error as Error).message}`, { cause: error });
        }
      }
      const owner = Number((await readFile(this.lockPath, "utf8").catch(() => "")).trim());
      if (isRunning(owner) && owner !== process.pid) {
        throw new StoreError(
          this.storePath,
          `The store is in use by process ${owner}; run one client per store (or remove ${this.lockPath} if that process is not hookscribe)`,
        );
      }
      await unlink(this.lockPath).catch(() => undefined);
    }
    throw new StoreError(this.storePath, `Cannot take the lock file ${this.lockPath}`);
  }

  async release(): Promise<void> {
    if (!heldHere.delete(this.lockPath)) return;
    await unlink(this.lockPath).catch(() => undefined);
  }
}

/** Creates the lock file with this process's pid; a file it could not complete (a full disk) is removed again. */
async function writeLockFile(lockPath: string): Promise<void> {
  const handle = await open(lockPath, "wx", 0o600);
  try {
    await handle.writeFile(String(process.pid));
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw error;
  }
  await handle.close();
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
