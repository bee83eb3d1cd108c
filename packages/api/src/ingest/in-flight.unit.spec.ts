import { describe, expect, it } from 'vitest';
import { InFlightLimit } from './in-flight.ts';

describe('InFlightLimit', () => {
  it('gives at most max slots, and one more once one is given back', () => {
    // given a bound of 2 with both slots taken
    const limit = new InFlightLimit(2);
    const first = limit.tryTake();
    const second = limit.tryTake();
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    // then a third is refused
    expect(limit.tryTake()).toBeUndefined();
    expect(limit.inFlight).toBe(2);
    // when one is given back, twice (a response and an abort both report it)
    first?.release();
    first?.release();
    // then exactly one slot is free again
    expect(limit.inFlight).toBe(1);
    expect(limit.tryTake()).toBeDefined();
    expect(limit.tryTake()).toBeUndefined();
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new InFlightLimit(0)).toThrow(RangeError);
    expect(() => new InFlightLimit(1.5)).toThrow(RangeError);
  });
});
