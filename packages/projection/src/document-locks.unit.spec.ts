import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocumentLocks } from './document-locks.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('DocumentLocks', () => {
  it('never lets two pieces of work hold one document at once, and lets all of them finish', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1 }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (keySets) => {
          const locks = new DocumentLocks();
          const holding = new Set<string>();
          let overlaps = 0;
          await Promise.all(
            keySets.map((keys) =>
              locks.run(keys, async () => {
                for (const key of keys) if (holding.has(key)) overlaps++;
                for (const key of keys) holding.add(key);
                await tick();
                for (const key of keys) holding.delete(key);
              }),
            ),
          );
          expect(overlaps).toBe(0);
          expect(locks.size).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('runs work on different documents at the same time', async () => {
    const locks = new DocumentLocks();
    const order: string[] = [];
    await Promise.all([
      locks.run(['a'], async () => {
        order.push('a starts');
        await tick();
        order.push('a ends');
      }),
      locks.run(['b'], async () => {
        order.push('b starts');
        await tick();
        order.push('b ends');
      }),
    ]);
    expect(order.slice(0, 2).sort()).toEqual(['a starts', 'b starts']);
  });

  it('releases a document when the work fails', async () => {
    const locks = new DocumentLocks();
    await expect(locks.run(['a'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await locks.run(['a'], () => Promise.resolve('next'))).toBe('next');
    expect(locks.size).toBe(0);
  });
});
