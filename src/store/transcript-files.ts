import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "../errors/index.js";
import type { Transcript } from "../types.js";

/** Transcripts live beside the store document, one file per job, so the document stays small. */
export function transcriptDir(storePath: string): string {
  return `${storePath}.transcripts`;
}

export function transcriptPath(storePath: string, ref: string): string {
  // Refs are ours (base64url), but hash anything else rather than trust it as a file name.
  const safe = /^[A-Za-z0-9_-]{1,64}$/.test(ref) ? ref : createHash("sha256").update(ref).digest("hex");
  return join(transcriptDir(storePath), `${safe}.json`);
}

export async function readTranscriptFile(storePath: string, ref: string): Promise<Transcript | undefined> {
  try {
    return JSON.parse(await readFile(transcriptPath(storePath, ref), "utf8")) as Transcript;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StoreError(storePath, `Cannot read the transcript of job ref ${ref}: ${(error as Error).message}`, { cause: error });
  }
}
