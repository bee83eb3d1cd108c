import type { ReadingQuality } from '@gridstream/events';
import type { IntervalFlag } from './interval-energy.ts';
import type { PhaseEnergy } from './phase-energy.ts';

export type BucketSize = 'quarter_hour' | 'hour' | 'day';

/** One device's energy in one time bucket [startMs, endMs). */
export interface DeviceBucketTotal {
  readonly deviceId: string;
  readonly size: BucketSize;
  readonly startMs: number;
  readonly endMs: number;
  readonly importWh: number;
  readonly exportWh: number;
  /** Time of the bucket covered by intervals whose energy is known. */
  readonly measuredMs: number;
  /** Time of the bucket covered by gaps or intervals without data (energy unknown, counted 0). */
  readonly unknownMs: number;
  /** Worst quality of the intervals with known energy; `good` when there are none. */
  readonly quality: ReadingQuality;
  /** Every flag of every interval that overlaps the bucket, sorted. */
  readonly flags: readonly IntervalFlag[];
  /** Per phase, from the intervals whose readings both report that phase's power. */
  readonly phases: PhaseEnergy;
}
