/** A signal that follows other signals for as long as an operation needs it. */
export interface LinkedSignal {
  /** Aborts as soon as one of the sources does, with that source's reason. */
  readonly signal: AbortSignal;
  /** Stops following the sources; call it once the operation the signal guards is over. */
  unlink(): void;
}

/** The signals following one source, and the one listener that tells them when it aborts. */
interface Following {
  followers: Set<(reason: unknown) => void>;
  listener: () => void;
}

const followingBySource = new WeakMap<AbortSignal, Following>();

/**
 * Links `signal` to every given source until `unlink()`. `AbortSignal.any` would do the same,
 * but on Node 20 each call leaves an entry on every source that is never removed while the
 * source lives: combined with a long-lived signal (the client's close signal, the worker's stop
 * signal) once per job or per request, memory grows for as long as the client runs. A source
 * gets one listener however many signals follow it, so a hundred jobs at once on one signal do
 * not trip Node's listener-leak warning either.
 */
export function linkSignals(...sources: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const present = sources.filter((source): source is AbortSignal => source !== undefined);
  const aborted = present.find((source) => source.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, unlink: () => undefined };
  }
  let linked = true;
  const abort = (reason: unknown) => {
    // Unlinked by another follower of the same abort, while the source was telling its followers.
    if (!linked) return;
    unlink();
    controller.abort(reason);
  };
  const unlink = () => {
    linked = false;
    for (const source of present) stopFollowing(source, abort);
  };
  for (const source of present) follow(source, abort);
  return { signal: controller.signal, unlink };
}

function follow(source: AbortSignal, follower: (reason: unknown) => void): void {
  let following = followingBySource.get(source);
  if (!following) {
    const followers = new Set<(reason: unknown) => void>();
    const listener = () => {
      followingBySource.delete(source);
      for (const notify of [...followers]) notify(source.reason);
    };
    following = { followers, listener };
    followingBySource.set(source, following);
    source.addEventListener("abort", listener, { once: true });
  }
  following.followers.add(follower);
}

function stopFollowing(source: AbortSignal, follower: (reason: unknown) => void): void {
  const following = followingBySource.get(source);
  if (!following) return;
  following.followers.delete(follower);
  if (following.followers.size > 0) return;
  source.removeEventListener("abort", following.listener);
  followingBySource.delete(source);
}
