import { writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/**
 * Writes all of `data` at the end of the file. A write(2) may take only part of what it is given
 * without failing (a disk that fills up mid-write); the rest is written again, and then the disk
 * reports why it cannot take more. Nothing counts as written until every byte is.
 */
export async function writeFully(handle: FileHandle, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length; ) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += progress(bytesWritten, data.length - offset);
  }
}

/**
 * `writeFully` on the calling thread, for the journal's and the transcript log's appends: a group
 * commit's lines (tens of KB) go to the page cache in microseconds, where handing each write to
 * libuv's thread pool woke a pool thread per write and cost the event loop tens of microseconds
 * a write on a 2-core machine (about a tenth more acks a second without it).
 */
export function writeFullySync(handle: FileHandle, data: Buffer): void {
  for (let offset = 0; offset < data.length; ) offset += progress(writeSync(handle.fd, data, offset, data.length - offset), data.length - offset);
}

function progress(bytesWritten: number, left: number): number {
  if (bytesWritten <= 0) throw new Error(`the file system took none of the last ${left} bytes`);
  return bytesWritten;
}
