import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Holds a stream of work to at most `perSecond` items a second, over all callers together
 * (a rebuild's partitions handled at once share one pacer). Each call is charged for its items
 * and returns once their time has come, so over any stretch longer than one batch the rate
 * stays at or below the limit; a batch is never split or delayed before it is handled.
 */
export class Pacer {
  readonly #msPerItem: number;
  readonly #now: () => number;
  /** When the items charged so far have all been paid for. */
  #paidUntil = -Infinity;

  constructor(perSecond: number, now: () => number = Date.now) {
    if (!(perSecond > 0)) throw new RangeError(`a pacer needs a positive rate, not ${perSecond}`);
    this.#msPerItem = 1000 / perSecond;
    this.#now = now;
  }

  /** How long the caller should wait after handling `items` (ms), charging them. */
  charge(items: number): number {
    const now = this.#now();
    this.#paidUntil = Math.max(now, this.#paidUntil) + items * this.#msPerItem;
    return this.#paidUntil - now;
  }

  async pace(items: number): Promise<void> {
    const waitMs = this.charge(items);
    if (waitMs > 0) await sleep(waitMs);
  }
}
