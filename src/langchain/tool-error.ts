import { HookscribeError } from "hookscribe";

/**
 * The error a tool call rejects with: its message is written for the model (agent frameworks
 * such as LangChain's `createAgent` turn it into the tool result), `cause` is the hookscribe error,
 * `jobId` the provider's job id when there is one. A `HookscribeError`, so `isHookscribeError`
 * and `instanceof HookscribeError` recognise it.
 */
export class TranscribeToolError extends HookscribeError {
  override readonly name = "TranscribeToolError";
  /** The provider's job id, when the provider had accepted the job. */
  readonly jobId: string | undefined;

  constructor(message: string, options: { jobId: string | undefined; cause: unknown }) {
    super(message, { cause: options.cause });
    this.jobId = options.jobId;
  }
}

/**
 * Turns a hookscribe failure into an error a model can act on. Errors are recognised by their
 * literal `name`, so an error from another copy of the package (a client built from the other
 * module system, another version) is handled too. Cancellations and unknown errors pass through
 * untouched, so an `AbortError` stays recognisable as one.
 */
export function toToolError(error: unknown, audioUrl: string): unknown {
  if (!(error instanceof Error)) return error;
  const jobId = (error as { jobId?: unknown }).jobId;
  const id = typeof jobId === "string" ? jobId : undefined;
  const wrap = (message: string) => new TranscribeToolError(message, { jobId: id, cause: error });
  switch (error.name) {
    case "TranscriptionError":
      return wrap(`The speech-to-text provider could not transcribe ${audioUrl}: ${error.message}`);
    case "TranscriptionTimeoutError":
      return id === undefined
        ? wrap(`The speech-to-text provider did not accept ${audioUrl} before the deadline; nothing was transcribed. ${error.message}`)
        : wrap(
            `The transcription of ${audioUrl} did not finish before the deadline. The provider is still working on it as job ${id}, ` +
              `and the result is kept under that id. Tell the user the job id ${id} instead of calling the tool again, ` +
              "which would transcribe the recording a second time.",
          );
    case "SubmitError":
      return wrap(`The speech-to-text provider refused the job for ${audioUrl}: ${error.message}`);
    case "ConfigurationError":
      return wrap(`Cannot transcribe ${audioUrl}: ${error.message}`);
    default:
      return error;
  }
}
