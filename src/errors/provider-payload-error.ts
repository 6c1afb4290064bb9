import { HookscribeError } from "./hookscribe-error.js";

/**
 * A provider sent something hookscribe does not understand: a webhook body or an API answer that
 * does not match the provider's documented schema. The message names the first field that does
 * not fit, never the payload's content (it may hold transcript text).
 */
export class ProviderPayloadError extends HookscribeError {
  override readonly name = "ProviderPayloadError";
  /** Which provider sent it. */
  readonly provider: string;

  constructor(provider: string, message: string) {
    super(message);
    this.provider = provider;
  }
}
