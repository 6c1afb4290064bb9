/** How much of an audio file to read to find a WAV header: room for the `fmt ` chunk plus metadata chunks before `data`. */
export const WAV_HEAD_BYTES = 64 * 1024;

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Streaming writers put this (or 0) in the `data` size when they do not know the length yet. */
const UNKNOWN_SIZE = 0xffffffff;

/**
 * Length in seconds of an uncompressed (PCM or float) WAV, read from the first bytes of the file;
 * `undefined` for any other format or a header that does not state its length.
 */
export function wavDurationSec(head: Buffer): number | undefined {
  if (head.length < 12 || head.toString("latin1", 0, 4) !== "RIFF" || head.toString("latin1", 8, 12) !== "WAVE") {
    return undefined;
  }
  let byteRate: number | undefined;
  for (let offset = 12; offset + 8 <= head.length; ) {
    const chunkId = head.toString("latin1", offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (chunkId === "fmt " && body + 12 <= head.length) {
      if (!isUncompressed(head.readUInt16LE(body))) return undefined;
      byteRate = head.readUInt32LE(body + 8);
    } else if (chunkId === "data") {
      return byteRate && size !== 0 && size !== UNKNOWN_SIZE ? size / byteRate : undefined;
    }
    // RIFF pads every chunk to an even length.
    offset = body + size + (size % 2);
  }
  return undefined;
}

function isUncompressed(format: number): boolean {
  return format === WAVE_FORMAT_PCM || format === WAVE_FORMAT_IEEE_FLOAT || format === WAVE_FORMAT_EXTENSIBLE;
}
