import { HookscribeError } from "./hookscribe-error.js";

/** The store could not be read, parsed or written. Stored data is never overwritten because of it. */
export class StoreError extends HookscribeError {
  override readonly name = "StoreError";
  /** Where the store is. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${message} (store: ${path})`, options);
    this.path = path;
  }
}
