import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterDeltaWh } from './counter-delta.ts';
import { counterRolloverOf } from './settings.ts';

const rollover = { wrapAtWh: 1_000_000, maxDeltaWh: 10_000 };

describe('counterDeltaWh', () => {
  it('a growing counter gives the difference', () => {
    expect(counterDeltaWh(1_500, 1_750, undefined)).toEqual({ deltaWh: 250, change: 'increase' });
  });

  it('an unchanged counter gives zero', () => {
    expect(counterDeltaWh(1_500, 1_500, rollover)).toEqual({ deltaWh: 0, change: 'increase' });
  });

  it('a counter that restarted gives its new value, never a negative delta', () => {
    // given a meter at 52 kWh that was replaced and now reads 0.3 kWh
    // when the delta is taken
    const delta = counterDeltaWh(52_000, 300, undefined);
    // then the energy since the restart is the new value, and it is called a reset
    expect(delta).toEqual({ deltaWh: 300, change: 'reset' });
  });

  it('a counter that wrapped near its register maximum runs through the wrap', () => {
    // given a register that wraps at 1 000 000 Wh, read at 999 900 Wh and then at 150 Wh
    const delta = counterDeltaWh(999_900, 150, rollover);
    // then 100 Wh to the wrap plus 150 Wh after it
    expect(delta).toEqual({ deltaWh: 250, change: 'rollover' });
  });

  it('a decrease far from the register maximum is a reset, not a rollover', () => {
    // given the wrapped delta would be 600 100 Wh, far above the plausible 10 000 Wh
    const delta = counterDeltaWh(400_000, 100, rollover);
    expect(delta).toEqual({ deltaWh: 100, change: 'reset' });
  });

  it("a device's register size allows wraps of up to 1 % of it", () => {
    // given a register that wraps at 100 000 Wh
    const ofDevice = counterRolloverOf(100_000);
    // then a wrap of 900 Wh runs through it, one of 1 100 Wh is a reset, and no size is none
    expect(counterDeltaWh(99_500, 400, ofDevice)).toEqual({ deltaWh: 900, change: 'rollover' });
    expect(counterDeltaWh(99_000, 100, ofDevice)).toEqual({ deltaWh: 100, change: 'reset' });
    expect(counterRolloverOf(undefined)).toBeUndefined();
  });

  it('without a rollover setting every decrease is a reset', () => {
    expect(counterDeltaWh(999_900, 150, undefined)).toEqual({ deltaWh: 150, change: 'reset' });
  });

  it('never yields negative energy, whatever the two values', () => {
    fc.assert(
      fc.property(fc.nat(2_000_000), fc.nat(2_000_000), (previousWh, nextWh) => {
        const delta = counterDeltaWh(previousWh, nextWh, rollover);
        expect(delta.deltaWh).toBeGreaterThanOrEqual(0);
        expect(delta.change === 'increase').toBe(nextWh >= previousWh);
      }),
      { numRuns: 200 },
    );
  });
});
