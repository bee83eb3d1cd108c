import type { EnergyReading } from './energy-reading.ts';
import type { IntervalEnergy } from './interval-energy.ts';

/** A reading with its computed energy: the interval that ends at it; null for a device's first. */
export interface ReadingDelta<R extends EnergyReading = EnergyReading> {
  readonly reading: R;
  readonly interval: IntervalEnergy | null;
}

/**
 * Bounds on what a timeline keeps. The oldest readings are evicted first, when there are more
 * than `maxReadings` or they are older than `maxAgeMs` before the newest reading (event time).
 */
export interface TimelineLimits {
  readonly maxReadings: number;
  readonly maxAgeMs: number;
}

/**
 * - inserted: a reading at a new instant.
 * - replaced: a different reading at an instant already held (last write wins, as QuestDB's
 *   DEDUP UPSERT on (ts, device)).
 * - duplicate: the same reading again; no figure changes, but the current figures are returned
 *   anyway, because an earlier attempt may have stored the reading and not the buckets.
 */
export type InsertStatus = 'inserted' | 'replaced' | 'duplicate';

export type InsertOutcome<R extends EnergyReading = EnergyReading> =
  | {
      readonly status: InsertStatus;
      /** The reading's own delta, then its successor's if it has one. */
      readonly readingDeltas: readonly ReadingDelta<R>[];
      /** The start of every 15-minute bucket whose total may have changed, in order. */
      readonly quarterHourStartsMs: readonly number[];
    }
  | {
      /**
       * Its predecessor is no longer held (evicted, or older than what a rebuild loaded), so
       * the timeline cannot compute it without corrupting a bucket it only partly knows.
       */
      readonly status: 'before_horizon';
      readonly reading: R;
    };
