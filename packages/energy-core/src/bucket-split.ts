import type { BucketSize, DeviceBucketTotal } from './bucket-total.ts';
import type { IntervalEnergy, IntervalFlag } from './interval-energy.ts';
import { addPhaseEnergy } from './phase-energy.ts';
import type { PhaseEnergy } from './phase-energy.ts';
import { worstQuality } from './quality.ts';

/**
 * The total of the intervals in a bucket. An interval that spans bucket boundaries is split in
 * proportion to time: a bucket gets energy × overlap / duration. The intervals must be given in
 * time order, so the floating-point sum is the same however the readings arrived.
 */
export function bucketTotal(
  deviceId: string,
  size: BucketSize,
  startMs: number,
  endMs: number,
  intervals: Iterable<IntervalEnergy>,
): DeviceBucketTotal {
  let importWh = 0;
  let exportWh = 0;
  let measuredMs = 0;
  let unknownMs = 0;
  let quality: DeviceBucketTotal['quality'] = 'good';
  const flags = new Set<IntervalFlag>();
  let phases: PhaseEnergy = {};
  for (const interval of intervals) {
    const overlapMs = Math.min(endMs, interval.endMs) - Math.max(startMs, interval.startMs);
    if (overlapMs <= 0) continue;
    for (const flag of interval.flags) flags.add(flag);
    if (interval.method === 'none') {
      unknownMs += overlapMs;
      continue;
    }
    const share = overlapMs / (interval.endMs - interval.startMs);
    importWh += interval.importWh * share;
    exportWh += interval.exportWh * share;
    measuredMs += overlapMs;
    phases = addPhaseEnergy(phases, interval.phases, share);
    quality = worstQuality(quality, interval.quality);
  }
  return {
    deviceId,
    size,
    startMs,
    endMs,
    importWh,
    exportWh,
    measuredMs,
    unknownMs,
    quality,
    flags: [...flags].sort(),
    phases,
  };
}
