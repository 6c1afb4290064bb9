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

/** Appends up to this size go to the page cache on the loop's thread: a group commit of a few dozen typical deliveries. */
const SYNC_APPEND_MAX_BYTES = 128 * 1024;

/**
 * Appends `data` to a log (the journal, the transcript log) and resolves once every byte is in
 * the file, and on the disk with `fsync`. A small append without `fsync` is written on the event
 * loop's thread: it reaches the page cache in microseconds, where handing it to libuv's thread
 * pool woke a pool thread each time and cost the loop tens of microseconds on a 2-core machine
 * (about a tenth more acks a second without it). A large one (long transcripts) goes through
 * the pool, so that a kernel slowing writers down (dirty pages to flush) never stops the loop;
 * with `fsync` every append does, as it would otherwise wait for the file's flush under way.
 */
export async function appendToLog(handle: FileHandle, data: Buffer, options: { fsync: boolean }): Promise<void> {
  if (!options.fsync && data.length <= SYNC_APPEND_MAX_BYTES) {
    for (let offset = 0; offset < data.length; ) offset += progress(writeSync(handle.fd, data, offset, data.length - offset), data.length - offset);
    return;
  }
  await writeFully(handle, data);
  if (options.fsync) await handle.datasync();
}

function progress(bytesWritten: number, left: number): number {
  if (bytesWritten <= 0) throw new Error(`the file system took none of the last ${left} bytes`);
  return bytesWritten;
}
