import { HookscribeError } from "./hookscribe-error.js";

/** `client.job(id)` or `client.inspect(id)` was given an id this store does not know. */
export class UnknownJobError extends HookscribeError {
  override readonly name = "UnknownJobError";
  readonly jobId: string;

  constructor(jobId: string, storePath: string) {
    super(`No job ${jobId} in the store ${storePath}: it was submitted with another store or provider, or pruned after retentionMs`);
    this.jobId = jobId;
  }
}
