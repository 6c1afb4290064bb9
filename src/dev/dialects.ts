import type { Dialect, DialectName } from "./dialect.js";
import { genericDialect } from "./dialect-generic.js";

/** Every dialect the emulator speaks, by name; `webhookSecret` signs the ones that sign. */
export function dialectNamed(name: DialectName, webhookSecret: string): Dialect<unknown> {
  switch (name) {
    case "generic":
      return genericDialect(webhookSecret);
    default:
      throw new Error(`dialect ${name} is not implemented yet`);
  }
}
