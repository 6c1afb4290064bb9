/** The listeners of one kind of news a store gives: each is told in turn, and one that throws keeps no other from being told. */
export class Listeners<A extends unknown[]> {
  private readonly listeners = new Set<(...args: A) => void>();

  /** Adds `listener`; returns the function that removes it. */
  add(listener: (...args: A) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  tell(...args: A): void {
    for (const listener of this.listeners) {
      try {
        listener(...args);
      } catch {
        // A listener's failure is its own; the others are still told.
      }
    }
  }
}
