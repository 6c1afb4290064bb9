import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * A server under test runs in its own process, so it does not share a JS thread with the load
 * generator. The two talk over IPC: start(config) → listening(url) … finish → finished(report).
 */

/** What a server knows after the load: how many jobs it resolved (if it resolves jobs at all). */
export interface ServerReport {
  resolved?: number;
  /** When the last job was resolved (`Date.now()`, the clock every process on the machine shares). */
  lastResolvedAt?: number;
  /** A provider emulator: when each job it ran finished (`Date.now()`), by job id. */
  finishedAt?: Record<string, number>;
  /** A provider emulator: the requests it answered. */
  requests?: number;
}

type ToChild = { type: "start"; config: unknown } | { type: "finish" };
type ToParent = { type: "listening"; url: string } | { type: "finished"; report: ServerReport } | { type: "failed"; error: string };

/** The parent's view of a running server. */
export interface ServerUnderTest {
  url: string;
  /** Asks the server to finish its work and shut down; resolves with its report once it exited. */
  finish(): Promise<ServerReport>;
}

/** Longest wait for any one step of a child, so a stuck server fails the run instead of hanging it. */
const STEP_TIMEOUT_MS = 120_000;
const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Forks `script` (a TypeScript file that calls `serveFromChild`) under tsx and waits until it listens. */
export async function startServerChild(script: URL, config: unknown): Promise<ServerUnderTest> {
  const name = fileURLToPath(script).slice(PACKAGE_ROOT.length);
  // Node refuses --cpu-prof in NODE_OPTIONS, so profiling a server under test takes this variable.
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const execArgv = ["--import", "tsx", ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])];
  // cwd = package root, and the environment (TSX_TSCONFIG_PATH, which `tsx --tsconfig` sets) is
  // inherited: the child resolves "hookscribe" as the parent does (bench/tsconfig.json: to dist/).
  const child = fork(fileURLToPath(script), { cwd: PACKAGE_ROOT, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  const reply = <T extends ToParent["type"]>(expected: T) =>
    new Promise<Extract<ToParent, { type: T }>>((resolve, reject) => {
      const settle = (error?: Error, message?: ToParent) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        if (error) {
          child.kill();
          reject(error);
        } else {
          resolve(message as Extract<ToParent, { type: T }>);
        }
      };
      const onMessage = (message: ToParent) => {
        if (message.type === "failed") settle(new Error(`${name} failed: ${message.error}`));
        else if (message.type === expected) settle(undefined, message);
      };
      const onExit = (code: number | null) => settle(new Error(`${name} exited (code ${code}) before "${expected}"`));
      const timer = setTimeout(() => settle(new Error(`${name}: no "${expected}" within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
      child.on("message", onMessage);
      child.once("exit", onExit);
      // It may have died while the load ran, when nobody was listening for its exit.
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode);
    });

  const listening = reply("listening");
  child.send({ type: "start", config } satisfies ToChild);
  const { url } = await listening;
  return {
    url,
    async finish() {
      const finished = reply("finished");
      child.send({ type: "finish" } satisfies ToChild);
      const { report } = await finished;
      await exited;
      return report;
    },
  };
}

/** The child's side: start the server with the parent's config, report, and exit when told to finish. */
export function serveFromChild<Config>(start: (config: Config) => Promise<{ url: string; finish(): Promise<ServerReport> }>): void {
  const send = (message: ToParent, then: () => void = () => undefined) => process.send!(message, undefined, undefined, then);
  let server: Awaited<ReturnType<typeof start>> | undefined;
  process.on("message", (message: ToChild) => {
    const step =
      message.type === "start"
        ? start(message.config as Config).then((started) => {
            server = started;
            send({ type: "listening", url: started.url });
          })
        : server!.finish().then((report) => send({ type: "finished", report }, () => process.exit(0)));
    step.catch((error: unknown) => send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)));
  });
}
