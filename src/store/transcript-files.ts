import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "../errors/index.js";
import { describeIssues } from "../validation/describe-issues.js";
import { type Transcript, transcriptSchema } from "../domain/transcript.js";
import type { TranscriptLocation } from "./records.js";
import { readLoggedTranscript } from "./transcript-log.js";

/** Transcripts live beside the store document, one file per job, so the document stays small. */
export function transcriptDir(storePath: string): string {
  return `${storePath}.transcripts`;
}

export function transcriptPath(storePath: string, ref: string): string {
  // Refs are ours (base64url), but hash anything else rather than trust it as a file name.
  const safe = /^[A-Za-z0-9_-]{1,64}$/.test(ref) ? ref : createHash("sha256").update(ref).digest("hex");
  return join(transcriptDir(storePath), `${safe}.json`);
}

/**
 * The transcript of job `ref` of the JSON store at `storePath`: in the transcript log at
 * `location`, or, for a job processed before the log existed, in a file of its own.
 */
export function readStoredTranscript(storePath: string, ref: string, location: TranscriptLocation | undefined): Promise<Transcript | undefined> {
  return location ? readLoggedTranscript(transcriptDir(storePath), ref, location) : readTranscriptFile(storePath, ref);
}

async function readTranscriptFile(storePath: string, ref: string): Promise<Transcript | undefined> {
  const path = transcriptPath(storePath, ref);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StoreError(storePath, `Cannot read the transcript file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StoreError(storePath, `The transcript file ${path} is not valid JSON (${text.length} bytes; damaged or edited by hand?)`);
  }
  const parsed = transcriptSchema.safeParse(json);
  if (!parsed.success) throw new StoreError(storePath, `The transcript file ${path} does not hold a transcript (${describeIssues(parsed.error)})`);
  return parsed.data;
}
