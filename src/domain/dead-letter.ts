/** A failed processing attempt that exhausted its retries. `client.replay(id)` tries it again. */
export interface DeadLetter {
  id: string;
  /** The provider's job id. */
  jobId: string;
  /** The last error's message. */
  error: string;
  /** Attempts made so far. */
  attempts: number;
  failedAt: Date;
}
