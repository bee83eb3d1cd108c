import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/*
 * patches/kafkajs@2.2.4.patch, kafkajs's worker queue: fetchers push batches and wait until a
 * worker has handled them. A worker runs as a shared promise (one loop at a time) that ends
 * when the queue is empty, and forgets itself a few microtasks after its loop ended; a push in
 * between found the ending loop, was promised its batch would be handled, and waited for ever,
 * its fetcher with it, until another push started a new loop. At the end of a load, or on a
 * quiet partition, nobody else pushes.
 */

const require = createRequire(import.meta.url);

type Handler = (batch: string) => Promise<void>;
interface Worker {
  run(options: { next: () => unknown }): Promise<void>;
}
const createWorker = require('kafkajs/src/consumer/worker.js') as (options: {
  handler: Handler;
  workerId: number;
}) => Worker;
const createWorkerQueue = require('kafkajs/src/consumer/workerQueue.js') as (options: {
  workers: Worker[];
}) => { push(...batches: string[]): Promise<void> };

/** Resolves after `ticks` turns of the microtask queue. */
async function microtasks(ticks: number) {
  for (let i = 0; i < ticks; i++) await Promise.resolve();
}

/** Whether the promise settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('kafkajs worker queue', () => {
  it('handles a batch pushed at any moment while the last loop of its worker ends', async () => {
    const stuckAt: number[] = [];
    // Every point, in microtasks, between a worker's last batch ending and it forgetting itself.
    for (let ticks = 0; ticks < 12; ticks++) {
      let finishFirst = () => {};
      const handled: string[] = [];
      const worker = createWorker({
        workerId: 0,
        handler: async (batch) => {
          if (batch === 'first')
            await new Promise<void>((resolve) => {
              finishFirst = resolve;
            });
          handled.push(batch);
        },
      });
      const queue = createWorkerQueue({ workers: [worker] });
      const first = queue.push('first');
      await microtasks(2);
      finishFirst();
      await microtasks(ticks);
      const second = queue.push('second');
      await first;
      if (!(await settlesWithin(second, 200))) stuckAt.push(ticks);
      else expect(handled).toEqual(['first', 'second']);
    }
    expect(stuckAt, 'pushes that were never handled, by microtasks after the loop ended').toEqual(
      [],
    );
  });
});
