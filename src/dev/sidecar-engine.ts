import { open, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { EngineContext, TranscriptEngine } from "./transcript-engine.js";
import { WAV_HEAD_BYTES, wavDurationSec } from "./wav-duration.js";
import { spreadWords } from "./word-timings.js";

/**
 * The default engine of `startDevProvider`. It does NOT recognise speech: it returns a transcript
 * somebody published next to the audio, so the whole protocol can run without a model.
 *
 * - The text is read from the audio URL with its extension replaced by `.txt`
 *   (`call.wav` → `call.txt`, `call` → `call.txt`).
 * - `file://` URLs are read from disk, this emulator's own `/files/` URLs straight from its
 *   `publicDir`, anything else is fetched.
 * - For an uncompressed WAV the duration comes from its header and the words are spread evenly
 *   over it; any other audio gets about 0.4 s per word. The timings are plausible, not measured.
 * - Audio that cannot be read, or a missing `.txt`, ends the job with status `"error"` and a
 *   message naming the file.
 */
export const sidecarEngine: TranscriptEngine = async (audioUrl, context) => {
  const audio = new URL(audioUrl);
  const head = await readAudioHead(audio, context);
  const text = await readSidecar(sidecarUrlOf(audio), context);
  return { text, ...spreadWords(text, wavDurationSec(head)) };
};

function sidecarUrlOf(audio: URL): URL {
  const sidecar = new URL(audio.href);
  sidecar.pathname = sidecar.pathname.replace(/(\.[^./]*)?$/, ".txt");
  return sidecar;
}

function localPathOf(url: URL, context: EngineContext): string | undefined {
  return url.protocol === "file:" ? fileURLToPath(url) : context.localPath?.(url.href);
}

async function readAudioHead(audio: URL, context: EngineContext): Promise<Buffer> {
  const file = localPathOf(audio, context);
  if (file) {
    return readFileHead(file).catch((error: unknown) => {
      throw new Error(`Cannot read the audio at ${audio.href}: ${messageOf(error)}`);
    });
  }
  const response = await fetch(audio, { signal: context.signal, headers: { range: `bytes=0-${WAV_HEAD_BYTES - 1}` } });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot fetch the audio at ${audio.href}: HTTP ${response.status}`);
  }
  return readStreamHead(response);
}

async function readFileHead(file: string): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(WAV_HEAD_BYTES), 0, WAV_HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Servers may ignore the Range header: stop reading once the header is in, whatever they send. */
async function readStreamHead(response: Response): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  while (size < WAV_HEAD_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel();
  return Buffer.concat(chunks);
}

async function readSidecar(sidecar: URL, context: EngineContext): Promise<string> {
  const text = await readTextIfPresent(sidecar, context);
  if (text === undefined) {
    throw new Error(
      `No transcript sidecar at ${sidecar.href}. The dev provider's sidecarEngine does not recognise speech: ` +
        "it returns the text published next to the audio. Put the expected transcript in that file, " +
        "or pass another engine to startDevProvider({ engine }).",
    );
  }
  return text.trim();
}

async function readTextIfPresent(url: URL, context: EngineContext): Promise<string | undefined> {
  const file = localPathOf(url, context);
  if (file) {
    return readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
  }
  const response = await fetch(url, { signal: context.signal });
  if (!response.ok) {
    await response.body?.cancel();
    if (response.status === 404) return undefined;
    throw new Error(`Cannot fetch the transcript sidecar at ${url.href}: HTTP ${response.status}`);
  }
  return response.text();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
