import { StoreError } from "../errors/index.js";

/** `error` as a `StoreError` saying what failed (`doing`); one already is passes through. */
export function toStoreError(path: string, doing: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError(path, `${doing}: ${(error as Error).message}`, { cause: error });
}
