import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FIRST_RESTART_DELAY_MS,
  MAX_RESTART_DELAY_MS,
  restartDelayMs,
  STABLE_AFTER_MS,
} from './supervisor.ts';

describe('restartDelayMs', () => {
  it('doubles from 1 s to 30 s while a service keeps crashing, and starts over after a stable run', () => {
    // given a service that crashes at once, again and again (no jitter: random 0.5)
    const delays: number[] = [];
    let previous = 0;
    for (let i = 0; i < 8; i++) delays.push((previous = restartDelayMs(previous, 100, 0.5)));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    // then one that ran a minute before it crashed waits 1 s again
    expect(restartDelayMs(30_000, STABLE_AFTER_MS, 0.5)).toBe(1_000);
  });

  it('stays within ±25 % of its step, never above 37.5 s nor below 0.75 s', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (previous, ran, random) => {
          const delay = restartDelayMs(previous, ran, random);
          expect(delay).toBeGreaterThanOrEqual(FIRST_RESTART_DELAY_MS * 0.75);
          expect(delay).toBeLessThanOrEqual(MAX_RESTART_DELAY_MS * 1.25);
        },
      ),
    );
  });
});
