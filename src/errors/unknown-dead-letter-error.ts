import { HookscribeError } from "./hookscribe-error.js";

/** `client.replay(id)` was given an id that is not a dead letter (any more: a successful replay removes it). */
export class UnknownDeadLetterError extends HookscribeError {
  override readonly name = "UnknownDeadLetterError";
  readonly deadLetterId: string;

  constructor(deadLetterId: string, detail: string) {
    super(`No dead letter ${deadLetterId} to replay: ${detail}`);
    this.deadLetterId = deadLetterId;
  }
}
