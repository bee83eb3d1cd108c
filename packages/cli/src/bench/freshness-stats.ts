import { percentile } from './api.ts';

/** p50, p99 and max of the times from a reading's 202 to its being visible, in ms. */
export interface FreshnessSummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summariseFreshness(visibleAfterMs: readonly number[]): FreshnessSummary {
  const sorted = [...visibleAfterMs].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * Readings a paced client should have posted by `elapsedMs` so that together the clients
 * offer `ratePerSecond`: a schedule, not a sleep per batch, so a slow answer is caught up
 * instead of lowering the offered rate for the rest of the run.
 */
export function readingsDueBy(elapsedMs: number, ratePerSecond: number, clients: number): number {
  if (elapsedMs <= 0 || clients <= 0) return 0;
  return Math.floor((elapsedMs * ratePerSecond) / 1000 / clients);
}
