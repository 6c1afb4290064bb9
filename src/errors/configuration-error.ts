import { HookscribeError } from "./hookscribe-error.js";

/** Options or input that cannot work as given (thrown at once, before any I/O); the message names the option and what to change. */
export class ConfigurationError extends HookscribeError {
  override readonly name = "ConfigurationError";
}
