import type { ReadingQuality, ReadingReportedV1 } from '@gridstream/events';

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
