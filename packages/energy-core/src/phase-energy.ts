import { PHASES } from './energy-reading.ts';
import type { EnergyReading, Phase } from './energy-reading.ts';
import { trapezoidEnergyWh } from './power-integration.ts';
import type { DirectedEnergy } from './power-integration.ts';

/** Energy per phase, for the phases that were measured; a phase not measured is absent. */
export type PhaseEnergy = Readonly<Partial<Record<Phase, DirectedEnergy>>>;

/**
 * Trapezoid integration of each phase both readings report a power for. Per-phase energy is
 * always from power: meters count energy per direction, not per phase, in this catalogue.
 */
export function phaseEnergy(
  previous: EnergyReading,
  next: EnergyReading,
  durationMs: number,
): PhaseEnergy | undefined {
  let energy: Partial<Record<Phase, DirectedEnergy>> | undefined;
  for (const phase of PHASES) {
    const startW = previous.phasePowersW?.[phase];
    const endW = next.phasePowersW?.[phase];
    if (startW === undefined || endW === undefined) continue;
    energy ??= {};
    energy[phase] = trapezoidEnergyWh(startW, endW, durationMs);
  }
  return energy;
}

/** `total` plus `share` of `part`, phase by phase (a phase in neither stays absent). */
export function addPhaseEnergy(
  total: PhaseEnergy,
  part: PhaseEnergy | undefined,
  share = 1,
): PhaseEnergy {
  if (part === undefined) return total;
  const sum: Partial<Record<Phase, DirectedEnergy>> = { ...total };
  for (const phase of PHASES) {
    const add = part[phase];
    if (add === undefined) continue;
    const before = sum[phase] ?? { importWh: 0, exportWh: 0 };
    sum[phase] = {
      importWh: before.importWh + add.importWh * share,
      exportWh: before.exportWh + add.exportWh * share,
    };
  }
  return sum;
}
