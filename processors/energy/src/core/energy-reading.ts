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
  readonly phasePowersW?: readonly number[] | undefined;
  readonly quality: ReadingQuality;
}

/** The core's view of a catalogue reading; `timeMs` is the envelope's time, parsed by the caller. */
export function toEnergyReading(timeMs: number, payload: ReadingReportedV1): EnergyReading {
  const phases = payload.phases;
  const phasePowersW = [phases?.l1?.powerW, phases?.l2?.powerW, phases?.l3?.powerW].filter(
    (p): p is number => p !== undefined,
  );
  return {
    deviceId: payload.deviceId,
    timeMs,
    powerW: payload.powerW,
    importWh: payload.importWh,
    exportWh: payload.exportWh,
    phasePowersW: phasePowersW.length > 0 ? phasePowersW : undefined,
    quality: payload.quality,
  };
}

/** Total power: the reported total, else the sum of the reported phases, else unknown. */
export function totalPowerW(reading: EnergyReading): number | undefined {
  if (reading.powerW !== undefined) return reading.powerW;
  const phases = reading.phasePowersW;
  if (phases === undefined || phases.length === 0) return undefined;
  return phases.reduce((sum, p) => sum + p, 0);
}

/** Same energy content: a redelivery of this reading would change no figure. */
export function sameEnergyReading(a: EnergyReading, b: EnergyReading): boolean {
  const phasesA = a.phasePowersW ?? [];
  const phasesB = b.phasePowersW ?? [];
  return (
    a.deviceId === b.deviceId &&
    a.timeMs === b.timeMs &&
    a.powerW === b.powerW &&
    a.importWh === b.importWh &&
    a.exportWh === b.exportWh &&
    a.quality === b.quality &&
    phasesA.length === phasesB.length &&
    phasesA.every((p, i) => p === phasesB[i])
  );
}
