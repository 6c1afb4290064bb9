import { stat } from "node:fs/promises";
import { StoreError } from "../errors/index.js";
import { StoreFileAdapter } from "./json-file-adapter.js";
import { applyChange, journalDir, readJournal } from "./journal.js";
import type { StoreReader } from "./job-store.js";
import { newestJobs } from "./newest-jobs.js";
import type { StoreDocument } from "./records.js";
import { readStoredTranscript } from "./transcript-files.js";

/**
 * Reads a store without locking or writing it (document plus journal replayed in memory), so a
 * command can look at a store while the process that owns it keeps running.
 */
export async function readStoreSnapshot(path: string): Promise<StoreReader> {
  const document = await readStoreDocument(path);
  const jobs = Object.values(document.jobs);
  return {
    location: path,
    listJobs: async (listing) => newestJobs(jobs, listing),
    jobByProviderId: async (provider, jobId) => jobs.find((job) => job.provider === provider && job.jobId === jobId),
    deadLetters: async () => Object.values(document.deadLetters).sort((a, b) => a.failedAt - b.failedAt),
    readTranscript: (ref) => readStoredTranscript(path, ref, document.jobs[ref]?.transcriptAt),
  };
}

const ATTEMPTS = 5;

/**
 * The document with the journal folded in, as a restarted process would find it (`journalSeq`
 * then names the last entry folded in). The owner may fold the journal into a new document (and
 * delete the segments it covers) while we read. A document that changed under us, or a segment
 * that vanished, means we read a mix: read again.
 */
export async function readStoreDocument(path: string): Promise<StoreDocument> {
  const adapter = new StoreFileAdapter(path, { fsync: false });
  for (let attempt = 1; ; attempt++) {
    const before = await fileIdentity(path);
    const document = await adapter.read();
    if (!document) throw new StoreError(path, "No store here yet (nothing was transcribed with this storePath?)");
    try {
      const { entries } = await readJournal(journalDir(path), document.journalSeq);
      // Snapshots replace the document by rename, so an unchanged identity means no snapshot happened.
      if (before === (await fileIdentity(path))) {
        for (const entry of entries) for (const change of entry.changes) applyChange(document, change);
        document.journalSeq = entries.at(-1)?.seq ?? document.journalSeq;
        return document;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (attempt === ATTEMPTS) throw new StoreError(path, "The store kept changing while it was read; try again");
  }
}

async function fileIdentity(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  return info ? `${info.ino}:${info.mtimeMs}` : "missing";
}
