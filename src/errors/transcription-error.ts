import { HookscribeError } from "./hookscribe-error.js";

/** The provider reported that the job failed; the message carries the provider's reason. */
export class TranscriptionError extends HookscribeError {
  override readonly name = "TranscriptionError";
  /** The provider's job id. */
  readonly jobId: string;

  constructor(jobId: string, providerMessage: string | undefined) {
    super(`Provider reported job ${jobId} as failed: ${providerMessage ?? "no reason given"}`);
    this.jobId = jobId;
  }
}
