import { ConfigurationError, StoreError, SubmitError, TranscriptionError, TranscriptionTimeoutError, UnknownDeadLetterError, UnknownJobError } from "../errors/index.js";

/** The `hookscribe` command's exit codes, as documented in the README. */
export const EXIT = {
  ok: 0,
  /** The provider reported a failure (or refused the job). */
  failed: 1,
  /** Bad usage or configuration: nothing was wrong with the job itself. */
  usage: 2,
  /** The deadline passed; the job id is printed so it can be picked up later. */
  timeout: 3,
  /** Interrupted (Ctrl-C); the store was flushed first. */
  interrupted: 130,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof TranscriptionTimeoutError) return EXIT.timeout;
  if (error instanceof TranscriptionError) return EXIT.failed;
  if (error instanceof SubmitError) {
    // A refused key or a wrong base URL is a configuration problem; anything else is the provider's.
    return error.status === 401 || error.status === 403 || error.status === 404 ? EXIT.usage : EXIT.failed;
  }
  if (error instanceof ConfigurationError || error instanceof StoreError || error instanceof UnknownJobError || error instanceof UnknownDeadLetterError) return EXIT.usage;
  return EXIT.failed;
}

/** Thrown by a command to end with a message and a specific exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
