import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.ts';

describe('Pacer', () => {
  it('never lets more items through than the rate allows, and holds nobody longer than that', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        // calls: the gap since the previous call (ms) and the items handled
        fc.array(fc.tuple(fc.nat(2_000), fc.integer({ min: 1, max: 5_000 })), {
          minLength: 1,
          maxLength: 50,
        }),
        (perSecond, calls) => {
          let now = 1_000;
          const pacer = new Pacer(perSecond, () => now);
          const msPerItem = 1000 / perSecond;
          let previousDone = -Infinity;
          // the start of the current busy stretch and the items charged since
          let stretchStart = now;
          let stretchItems = 0;
          for (const [gap, items] of calls) {
            now += gap;
            const done = now + pacer.charge(items);
            if (now > previousDone) {
              stretchStart = now;
              stretchItems = 0;
            }
            stretchItems += items;
            // at most perSecond items a second over the busy stretch...
            expect(done - stretchStart).toBeGreaterThanOrEqual(stretchItems * msPerItem - 1e-6);
            // ...and no longer than that: done exactly when the stretch's items are paid for
            expect(done).toBeCloseTo(stretchStart + stretchItems * msPerItem, 6);
            previousDone = done;
          }
        },
      ),
    );
  });

  it('waits out the charge for real', async () => {
    const pacer = new Pacer(1_000);
    const started = performance.now();
    await pacer.pace(20);
    await pacer.pace(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new Pacer(0)).toThrow(/positive rate/);
    expect(() => new Pacer(Number.NaN)).toThrow(/positive rate/);
  });
});
