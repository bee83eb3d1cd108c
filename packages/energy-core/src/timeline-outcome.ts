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
 * - merged: a reading at an instant already held, with fields or values that change it: the
 *   two are one reading with the fields of both (`mergeEnergyReadings`).
 * - duplicate: nothing the energy depends on changed (the same reading again, or one adding
 *   only other fields); no figure changes, but the current figures are returned anyway,
 *   because an earlier attempt may have stored the reading and not the buckets.
 */
export type InsertStatus = 'inserted' | 'merged' | 'duplicate';

export type InsertOutcome<R extends EnergyReading = EnergyReading> =
  | {
      readonly status: InsertStatus;
      /**
       * In time order, every held reading whose delta may have changed: the reading's own, its
       * successor's, and those of the counter spans it is in (the merged reading, if merged).
       */
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
