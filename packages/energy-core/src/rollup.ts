import type { DeviceBucketTotal } from './bucket-total.ts';
import { bucketEndMs, bucketStartMs } from './calendar-buckets.ts';
import type { IntervalFlag } from './interval-energy.ts';
import { addPhaseEnergy } from './phase-energy.ts';
import { worstQuality } from './quality.ts';

/**
 * Local hour or day totals per device from its 15-minute totals. Exact, not an approximation:
 * every local hour and day boundary is a quarter-hour boundary. Quarters are summed in time
 * order so the result does not depend on the order they are given in.
 */
export function rollUpQuarterHours(
  quarterHours: readonly DeviceBucketTotal[],
  size: 'hour' | 'day',
  timeZone: string,
): DeviceBucketTotal[] {
  const ordered = [...quarterHours].sort((a, b) =>
    a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.startMs - b.startMs,
  );
  const totals = new Map<string, DeviceBucketTotal>();
  const flags = new Map<string, Set<IntervalFlag>>();
  for (const quarter of ordered) {
    if (quarter.size !== 'quarter_hour') {
      throw new RangeError(`rollUpQuarterHours takes quarter_hour buckets, got ${quarter.size}`);
    }
    const startMs = bucketStartMs(quarter.startMs, size, timeZone);
    const key = `${quarter.deviceId}\u0000${startMs}`;
    const sum = totals.get(key) ?? {
      deviceId: quarter.deviceId,
      size,
      startMs,
      endMs: bucketEndMs(startMs, size, timeZone),
      importWh: 0,
      exportWh: 0,
      measuredMs: 0,
      unknownMs: 0,
      quality: 'good',
      flags: [],
      phases: {},
    };
    const bucketFlags = flags.get(key) ?? new Set<IntervalFlag>();
    for (const flag of quarter.flags) bucketFlags.add(flag);
    flags.set(key, bucketFlags);
    totals.set(key, {
      ...sum,
      importWh: sum.importWh + quarter.importWh,
      exportWh: sum.exportWh + quarter.exportWh,
      measuredMs: sum.measuredMs + quarter.measuredMs,
      unknownMs: sum.unknownMs + quarter.unknownMs,
      quality: quarter.measuredMs > 0 ? worstQuality(sum.quality, quarter.quality) : sum.quality,
      phases: addPhaseEnergy(sum.phases, quarter.phases),
    });
  }
  return [...totals.entries()].map(([key, total]) => ({
    ...total,
    flags: [...(flags.get(key) ?? [])].sort(),
  }));
}
