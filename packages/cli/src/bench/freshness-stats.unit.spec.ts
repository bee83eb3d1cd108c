import { describe, expect, it } from 'vitest';
import { readingsDueBy, summariseFreshness } from './freshness-stats.ts';

describe('summariseFreshness', () => {
  it('gives p50, p99 and max of unsorted samples', () => {
    // given 100 samples 1..100 ms in reverse order
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    // when
    const summary = summariseFreshness(samples);
    // then
    expect(summary).toEqual({ samples: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
  });

  it('says NaN, not 0, when nothing was sampled', () => {
    const summary = summariseFreshness([]);
    expect(summary.samples).toBe(0);
    expect(summary.p99Ms).toBeNaN();
    expect(summary.maxMs).toBeNaN();
  });
});

describe('readingsDueBy', () => {
  it('splits the offered rate over the clients', () => {
    // given 10,000 readings/s over 8 clients, when 2 s have passed, then 2,500 each
    expect(readingsDueBy(2000, 10_000, 8)).toBe(2500);
  });

  it('owes nothing before the start or without clients', () => {
    expect(readingsDueBy(0, 10_000, 8)).toBe(0);
    expect(readingsDueBy(1000, 10_000, 0)).toBe(0);
  });
});
