import { Command, CommanderError } from "commander";
import { registerDevProvider } from "./dev-provider-command.js";
import { registerMcp } from "./mcp-command.js";
import { registerServe } from "./serve-command.js";
import { registerStoreCommands } from "./store-commands.js";
import { registerTranscribe } from "./transcribe-command.js";
import { CommandError, EXIT, exitCodeFor } from "./exit-codes.js";

/** `hookscribe`: the command line face of the SDK; every command is a thin layer over `Transcriber`. */
function buildProgram(): Command {
  const program = new Command("hookscribe")
    .description("speech-to-text resolved by verified webhooks, no polling")
    .version(process.env.npm_package_version ?? "0.1.0")
    .showHelpAfterError("(add --help for usage and an example)")
    .exitOverride();
  registerTranscribe(program);
  registerDevProvider(program);
  registerServe(program);
  registerStoreCommands(program);
  registerMcp(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    process.exitCode = report(error);
  }
}

/** One line (two for a timeout) that says what went wrong and what to do; returns the exit code. */
function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed help, the version or its one-line usage error.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`hookscribe: ${message}\n`);
  return error instanceof CommandError ? error.exitCode : exitCodeFor(error);
}

await main();
