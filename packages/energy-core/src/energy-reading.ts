import type { ReadingQuality, ReadingReportedV1 } from '@gridstream/events';
import { worstQuality } from './quality.ts';

/**
 * What the energy core needs of one reading. `timeMs` is the event time (when it was measured),
 * in epoch milliseconds. Power follows the load (consumer) reference-arrow convention:
 * positive = energy flowing into the device from its connection point (import, consumption,
 * battery charge), negative = out of it (export, production, battery discharge).
 */
export interface EnergyReading {
  readonly deviceId: string;
  readonly timeMs: number;
  readonly powerW?: number | undefined;
  readonly importWh?: number | undefined;
  readonly exportWh?: number | undefined;
  readonly phasePowersW?: PhasePowersW | undefined;
  readonly quality: ReadingQuality;
}

export const PHASES = ['l1', 'l2', 'l3'] as const;
export type Phase = (typeof PHASES)[number];

/** The power of each phase a reading reports, same sign convention as `powerW`. */
export type PhasePowersW = Readonly<Partial<Record<Phase, number>>>;

/** The core's view of a catalogue reading; `timeMs` is the envelope's time, parsed by the caller. */
export function toEnergyReading(timeMs: number, payload: ReadingReportedV1): EnergyReading {
  return {
    deviceId: payload.deviceId,
    timeMs,
    powerW: payload.powerW,
    importWh: payload.importWh,
    exportWh: payload.exportWh,
    phasePowersW: phasePowers(payload.phases),
    quality: payload.quality,
  };
}

/** The phases that report a power, or undefined when none does. */
export function phasePowers(phases: ReadingReportedV1['phases']): PhasePowersW | undefined {
  if (phases === undefined) return undefined;
  const powers: Partial<Record<Phase, number>> = {};
  for (const phase of PHASES) {
    const powerW = phases[phase]?.powerW;
    if (powerW !== undefined) powers[phase] = powerW;
  }
  return Object.keys(powers).length > 0 ? powers : undefined;
}

/** Total power: the reported total, else the sum of the reported phases, else unknown. */
export function totalPowerW(reading: EnergyReading): number | undefined {
  if (reading.powerW !== undefined) return reading.powerW;
  const phases = reading.phasePowersW;
  if (phases === undefined) return undefined;
  let sumW: number | undefined;
  for (const phase of PHASES) {
    const powerW = phases[phase];
    if (powerW !== undefined) sumW = (sumW ?? 0) + powerW;
  }
  return sumW;
}

/** Same energy content: a redelivery of this reading would change no figure. */
export function sameEnergyReading(a: EnergyReading, b: EnergyReading): boolean {
  return (
    a.deviceId === b.deviceId &&
    a.timeMs === b.timeMs &&
    a.powerW === b.powerW &&
    a.importWh === b.importWh &&
    a.exportWh === b.exportWh &&
    a.quality === b.quality &&
    PHASES.every((phase) => a.phasePowersW?.[phase] === b.phasePowersW?.[phase])
  );
}

/** Combines two readings of one device at one instant into one (`mergeEnergyReadings`). */
export type ReadingMerge<R extends EnergyReading> = (a: R, b: R) => R;

/**
 * The larger of two values a merged reading could take; a value beats a missing one. `max` is
 * commutative, associative and idempotent, so a merge built from it does not depend on the
 * order or the number of times the parts arrive.
 */
export function largerOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/**
 * Two readings of one device at the same instant are one reading with the fields of both (a
 * gateway may send power and counter separately). A field both carry with different values
 * takes the larger: for a counter, which only grows, that is the later count. Quality takes the
 * worse. Any arrival order and any duplication give the same reading (docs/energy.md).
 */
export function mergeEnergyReadings(a: EnergyReading, b: EnergyReading): EnergyReading {
  if (a.deviceId !== b.deviceId || a.timeMs !== b.timeMs)
    throw new RangeError('only readings of one device at one instant are merged');
  return {
    deviceId: a.deviceId,
    timeMs: a.timeMs,
    powerW: largerOf(a.powerW, b.powerW),
    importWh: largerOf(a.importWh, b.importWh),
    exportWh: largerOf(a.exportWh, b.exportWh),
    phasePowersW: mergePhasePowers(a.phasePowersW, b.phasePowersW),
    quality: worstQuality(a.quality, b.quality),
  };
}

/** Phase by phase, the larger power; undefined when neither reports a phase. */
export function mergePhasePowers(
  a: PhasePowersW | undefined,
  b: PhasePowersW | undefined,
): PhasePowersW | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const powers: Partial<Record<Phase, number>> = {};
  for (const phase of PHASES) {
    const powerW = largerOf(a[phase], b[phase]);
    if (powerW !== undefined) powers[phase] = powerW;
  }
  return powers;
}
