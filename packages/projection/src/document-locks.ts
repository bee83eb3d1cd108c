/**
 * Per-document locks inside one process: work on a set of documents waits for earlier work on
 * any of them. A projection consumes several partitions at once, and two batches may address one
 * document (a device's registry and readings partitions, a site's devices on several partitions).
 * The version guard of a write is not enough for that on FerretDB 1.24: two concurrent replaces
 * guarded by the same version both match there (96 and 99 of 100 races, checked), and one update
 * is lost. Locks are taken in key order, so two sets never wait on each other.
 */
export class DocumentLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(keys: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquire(key));
      return await work();
    } finally {
      for (const release of releases) release();
    }
  }

  /** Documents locked now or waited for (for tests: empty once all work is done). */
  get size(): number {
    return this.#tails.size;
  }

  async #acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
