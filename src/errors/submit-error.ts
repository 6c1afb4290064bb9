import { HookscribeError } from "./hookscribe-error.js";

/**
 * The provider refused the submit, or it kept failing after the retries. `status` is the HTTP
 * status of the last answer (`undefined` when none came back: network error, DNS, refused
 * connection) and `providerMessage` the provider's own error text.
 */
export class SubmitError extends HookscribeError {
  override readonly name = "SubmitError";
  /** HTTP status of the last response; `undefined` when no response came back (network error). */
  readonly status: number | undefined;
  /** The provider's own error text, when it sent one. */
  readonly providerMessage: string | undefined;

  constructor(message: string, options: { status?: number; providerMessage?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.providerMessage = options.providerMessage;
  }
}
