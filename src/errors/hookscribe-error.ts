/** Set on every hookscribe error, so `isHookscribeError` recognises errors from another copy of the package. */
const BRAND = Symbol.for("hookscribe.error");

/**
 * Base class of every error hookscribe throws or rejects with. Each subclass has a literal
 * `name`, so a check by name survives minifiers and a second copy of the package.
 */
export class HookscribeError extends Error {
  override readonly name: string = "HookscribeError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** `true` on every hookscribe error, whichever copy of the package (ESM, CommonJS, another version) made it. */
  get [BRAND](): true {
    return true;
  }
}

/**
 * `true` for an error thrown by hookscribe: an instance of `HookscribeError` from this copy of the
 * package or from any other (a CommonJS and an ESM copy in one process, two versions side by side).
 */
export function isHookscribeError(value: unknown): value is HookscribeError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
