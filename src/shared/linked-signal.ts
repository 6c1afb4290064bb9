/** A signal that follows other signals for as long as an operation needs it. */
export interface LinkedSignal {
  /** Aborts as soon as one of the sources does, with that source's reason. */
  readonly signal: AbortSignal;
  /** Stops following the sources; call it once the operation the signal guards is over. */
  unlink(): void;
}

/**
 * Links `signal` to every given source until `unlink()`. `AbortSignal.any` would do the same,
 * but on Node 20 each call leaves an entry on every source that is never removed while the
 * source lives: combined with a long-lived signal (the client's close signal, the worker's stop
 * signal) once per job or per request, memory grows for as long as the client runs.
 */
export function linkSignals(...sources: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const present = sources.filter((source): source is AbortSignal => source !== undefined);
  const aborted = present.find((source) => source.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, unlink: () => undefined };
  }
  const links = present.map((source) => {
    const follow = () => {
      unlink();
      controller.abort(source.reason);
    };
    source.addEventListener("abort", follow, { once: true });
    return { source, follow };
  });
  const unlink = () => {
    for (const { source, follow } of links) source.removeEventListener("abort", follow);
  };
  return { signal: controller.signal, unlink };
}
