import type { Dialect, DialectName } from "./dialect.js";
import { deepgramDialect } from "./dialect-deepgram.js";
import { genericDialect } from "./dialect-generic.js";
import { gladiaDialect } from "./dialect-gladia.js";
import { revAIDialect } from "./dialect-revai.js";
import { speechmaticsDialect } from "./dialect-speechmatics.js";
import { assemblyAIDialect } from "./dialect-assemblyai.js";

/** Every dialect the emulator speaks, by name; `webhookSecret` signs the ones that sign. */
export function dialectNamed(name: DialectName, webhookSecret: string): Dialect<unknown> {
  switch (name) {
    case "generic":
      return genericDialect(webhookSecret);
    case "deepgram":
      return deepgramDialect(webhookSecret);
    case "assemblyai": return assemblyAIDialect();
    case "gladia": return gladiaDialect();
    case "revai": return revAIDialect();
    case "speechmatics": return speechmaticsDialect();
    default:
      throw new Error(`dialect ${name} is not implemented yet`);
  }
}
