import type { BucketSize, DeviceBucketTotal } from './bucket-total.ts';
import type { IntervalEnergy, IntervalFlag } from './interval-energy.ts';
import { addPhaseEnergy } from './phase-energy.ts';
import type { PhaseEnergy } from './phase-energy.ts';
import { worstQuality } from './quality.ts';

/** A bucket's running sum, intervals added one at a time in time order. */
export interface BucketSum {
  importWh: number;
  exportWh: number;
  measuredMs: number;
  unknownMs: number;
  quality: DeviceBucketTotal['quality'];
  readonly flags: Set<IntervalFlag>;
  phases: PhaseEnergy;
}

export function emptyBucketSum(): BucketSum {
  return {
    importWh: 0,
    exportWh: 0,
    measuredMs: 0,
    unknownMs: 0,
    quality: 'good',
    flags: new Set(),
    phases: {},
  };
}

export function copyBucketSum(sum: BucketSum): BucketSum {
  return { ...sum, flags: new Set(sum.flags) };
}

/**
 * Adds the part of `interval` that falls in [startMs, endMs) to `sum`. An interval that spans
 * bucket boundaries is split in proportion to time: the bucket gets energy × overlap / duration.
 */
export function addToBucket(
  sum: BucketSum,
  startMs: number,
  endMs: number,
  interval: IntervalEnergy,
): void {
  const overlapMs = Math.min(endMs, interval.endMs) - Math.max(startMs, interval.startMs);
  if (overlapMs <= 0) return;
  for (const flag of interval.flags) sum.flags.add(flag);
  if (interval.method === 'none') {
    sum.unknownMs += overlapMs;
    return;
  }
  const share = overlapMs / (interval.endMs - interval.startMs);
  sum.importWh += interval.importWh * share;
  sum.exportWh += interval.exportWh * share;
  sum.measuredMs += overlapMs;
  sum.phases = addPhaseEnergy(sum.phases, interval.phases, share);
  sum.quality = worstQuality(sum.quality, interval.quality);
}

export function bucketTotalOf(
  deviceId: string,
  size: BucketSize,
  startMs: number,
  endMs: number,
  sum: BucketSum,
): DeviceBucketTotal {
  return {
    deviceId,
    size,
    startMs,
    endMs,
    importWh: sum.importWh,
    exportWh: sum.exportWh,
    measuredMs: sum.measuredMs,
    unknownMs: sum.unknownMs,
    quality: sum.quality,
    flags: [...sum.flags].sort(),
    phases: sum.phases,
  };
}

/**
 * The total of the intervals in a bucket. The intervals must be given in time order, so the
 * floating-point sum is the same however the readings arrived; a sum continued from another
 * (`BucketSum`) is the same as one over all the intervals, as long as both are in time order.
 */
export function bucketTotal(
  deviceId: string,
  size: BucketSize,
  startMs: number,
  endMs: number,
  intervals: Iterable<IntervalEnergy>,
): DeviceBucketTotal {
  const sum = emptyBucketSum();
  for (const interval of intervals) addToBucket(sum, startMs, endMs, interval);
  return bucketTotalOf(deviceId, size, startMs, endMs, sum);
}
