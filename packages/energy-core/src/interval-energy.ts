import type { ReadingQuality } from '@gridstream/events';
import { counterDeltaWh } from './counter-delta.ts';
import type { CounterChange } from './counter-delta.ts';
import { totalPowerW } from './energy-reading.ts';
import type { EnergyReading } from './energy-reading.ts';
import { phaseEnergy } from './phase-energy.ts';
import type { PhaseEnergy } from './phase-energy.ts';
import { trapezoidEnergyWh } from './power-integration.ts';
import { worstQuality } from './quality.ts';
import type { EnergySettings } from './settings.ts';

/** How an interval's energy was obtained; `none` means it is unknown (and counted as 0). */
export type EnergyMethod = 'counter' | 'power' | 'none';

export type IntervalFlag =
  'gap' | 'no_data' | 'import_reset' | 'import_rollover' | 'export_reset' | 'export_rollover';

/**
 * The energy that flowed through one device between two consecutive readings, (startMs, endMs].
 * Import = into the device (consumption, battery charge); export = out of it (production,
 * battery discharge, feed-in at a grid meter). Both are never negative.
 */
export interface IntervalEnergy {
  readonly startMs: number;
  readonly endMs: number;
  readonly importWh: number;
  readonly exportWh: number;
  readonly method: EnergyMethod;
  /** Sorted, so equal intervals compare equal. */
  readonly flags: readonly IntervalFlag[];
  readonly quality: ReadingQuality;
  /**
   * Energy per phase, integrated from the phase powers (trapezoid) for each phase both readings
   * report, whatever gave the interval's total; undefined across a gap or without phase powers.
   */
  readonly phases: PhaseEnergy | undefined;
}

/** One frozen list for the usual case, so a held interval does not carry an empty array of its own. */
const NO_FLAGS: readonly IntervalFlag[] = Object.freeze([]);

function counterFlag(direction: 'import' | 'export', change: CounterChange): IntervalFlag[] {
  if (change === 'reset') return [`${direction}_reset`];
  if (change === 'rollover') return [`${direction}_rollover`];
  return [];
}

/**
 * Counters win over power: they measure the interval exactly, so they are used whenever both
 * readings carry one (a direction neither reading counts contributes 0), even across a long
 * gap, which is then flagged. Without shared counters, power is integrated (trapezoid), but
 * never across a gap longer than the limit: such an interval has no energy and is flagged.
 */
export function intervalEnergy(
  previous: EnergyReading,
  next: EnergyReading,
  settings: EnergySettings,
): IntervalEnergy {
  const startMs = previous.timeMs;
  const endMs = next.timeMs;
  if (endMs <= startMs) throw new RangeError('intervalEnergy needs readings in time order');
  const quality = worstQuality(previous.quality, next.quality);
  const durationMs = endMs - startMs;
  const isGap = durationMs > settings.maxIntegrationGapMs;
  const phases = isGap ? undefined : phaseEnergy(previous, next, durationMs);
  const base = { startMs, endMs, quality, phases };

  const importCounted = previous.importWh !== undefined && next.importWh !== undefined;
  const exportCounted = previous.exportWh !== undefined && next.exportWh !== undefined;
  if (importCounted || exportCounted) {
    const flags: IntervalFlag[] = isGap ? ['gap'] : [];
    let importWh = 0;
    let exportWh = 0;
    if (previous.importWh !== undefined && next.importWh !== undefined) {
      const delta = counterDeltaWh(previous.importWh, next.importWh, settings.counterRollover);
      importWh = delta.deltaWh;
      flags.push(...counterFlag('import', delta.change));
    }
    if (previous.exportWh !== undefined && next.exportWh !== undefined) {
      const delta = counterDeltaWh(previous.exportWh, next.exportWh, settings.counterRollover);
      exportWh = delta.deltaWh;
      flags.push(...counterFlag('export', delta.change));
    }
    return {
      ...base,
      importWh,
      exportWh,
      method: 'counter',
      flags: flags.length === 0 ? NO_FLAGS : flags.sort(),
    };
  }

  const startW = totalPowerW(previous);
  const endW = totalPowerW(next);
  if (startW === undefined || endW === undefined) {
    return { ...base, importWh: 0, exportWh: 0, method: 'none', flags: ['no_data'] };
  }
  if (isGap) return { ...base, importWh: 0, exportWh: 0, method: 'none', flags: ['gap'] };
  return {
    ...base,
    ...trapezoidEnergyWh(startW, endW, durationMs),
    method: 'power',
    flags: NO_FLAGS,
  };
}
