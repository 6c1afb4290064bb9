import { StoreError } from "../errors.js";
import type { Transcript } from "../types.js";
import { StoreFileAdapter } from "./json-file-adapter.js";
import { applyChange, journalDir, readJournal } from "./journal.js";
import type { DeadLetterRecord, JobRecord, StoreDocument } from "./records.js";
import { readTranscriptFile } from "./transcript-files.js";

/** A read-only view of a store, as it is on disk now. */
export interface StoreSnapshot {
  path: string;
  document: StoreDocument;
  jobByProviderId(provider: string, jobId: string): JobRecord | undefined;
  deadLetters(): DeadLetterRecord[];
  readTranscript(ref: string): Promise<Transcript | undefined>;
}

/**
 * Reads a store without locking or writing it (document plus journal replayed in memory), so a
 * command can look at a store while the process that owns it keeps running.
 */
export async function readStoreSnapshot(path: string): Promise<StoreSnapshot> {
  const document = await new StoreFileAdapter(path, { fsync: false }).read();
  if (!document) throw new StoreError(path, "No store here yet (nothing was transcribed with this storePath?)");
  const { entries } = await readJournal(journalDir(path), document.journalSeq);
  for (const entry of entries) for (const change of entry.changes) applyChange(document, change);
  return {
    path,
    document,
    jobByProviderId: (provider, jobId) => Object.values(document.jobs).find((job) => job.provider === provider && job.jobId === jobId),
    deadLetters: () => Object.values(document.deadLetters).sort((a, b) => a.failedAt - b.failedAt),
    readTranscript: (ref) => readTranscriptFile(path, ref),
  };
}
