/** Resolves with the first SIGINT or SIGTERM, for commands that run until stopped. */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** Calls `onInterrupt` on Ctrl-C (instead of Node's immediate exit); returns the function that stops listening. */
export function onInterrupt(onInterrupt: () => void): () => void {
  const handler = () => onInterrupt();
  process.once("SIGINT", handler);
  return () => process.off("SIGINT", handler);
}
