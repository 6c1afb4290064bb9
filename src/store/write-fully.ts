import type { FileHandle } from "node:fs/promises";

/**
 * Writes all of `data` at the end of the file. A write(2) may take only part of what it is given
 * without failing (a disk that fills up mid-write); the rest is written again, and then the disk
 * reports why it cannot take more. Nothing counts as written until every byte is.
 */
export async function writeFully(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    if (bytesWritten <= 0) throw new Error(`the file system took none of the last ${data.length - offset} bytes`);
    offset += bytesWritten;
  }
}
