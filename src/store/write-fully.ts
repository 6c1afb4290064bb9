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
 * Appends `data` to a log (the journal, the transcript log) and resolves once every byte is in
 * the file, and on the disk with `fsync`. Without `fsync` it is written on the event loop's
 * thread: a group commit's lines (tens of KB) reach the page cache in microseconds, where handing
 * the write to libuv's thread pool woke a pool thread each time and cost the loop tens of
 * microseconds on a 2-core machine (about a tenth more acks a second without it). With `fsync` it
 * goes through the pool: a write on the loop's thread would wait for a flush of the file under
 * way, and stall every request meanwhile.
 */
export async function appendToLog(handle: FileHandle, data: Buffer, options: { fsync: boolean }): Promise<void> {
  if (!options.fsync) {
    for (let offset = 0; offset < data.length; ) offset += progress(writeSync(handle.fd, data, offset, data.length - offset), data.length - offset);
    return;
  }
  await writeFully(handle, data);
  await handle.datasync();
}

function progress(bytesWritten: number, left: number): number {
  if (bytesWritten <= 0) throw new Error(`the file system took none of the last ${left} bytes`);
  return bytesWritten;
}
