import type { Dialect, DialectName } from "./dialect.js";
import { assemblyAIDialect } from "./dialect-assemblyai.js";
import { deepgramDialect } from "./dialect-deepgram.js";
import { genericDialect } from "./dialect-generic.js";
import { gladiaDialect } from "./dialect-gladia.js";
import { revAIDialect } from "./dialect-revai.js";
import { speechmaticsDialect } from "./dialect-speechmatics.js";

/**
 * Every dialect the emulator speaks, by name. `webhookSecret` signs the generic dialect's webhooks
 * and is the deepgram dialect's `dg-token` (standing in for the API key's id).
 */
export function dialectNamed(name: DialectName, webhookSecret: string): Dialect<unknown> {
  switch (name) {
    case "generic":
      return genericDialect(webhookSecret);
    case "assemblyai":
      return assemblyAIDialect();
    case "deepgram":
      return deepgramDialect(webhookSecret);
    case "revai":
      return revAIDialect();
    case "speechmatics":
      return speechmaticsDialect();
    case "gladia":
      return gladiaDialect();
  }
}
