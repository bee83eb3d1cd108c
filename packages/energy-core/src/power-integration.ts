import { MS_PER_HOUR } from './units.ts';

export interface DirectedEnergy {
  readonly importWh: number;
  readonly exportWh: number;
}

/**
 * Trapezoid integration of power that varies linearly from `startW` to `endW` over
 * `durationMs`, split by direction. When the sign changes, the line crosses zero at
 * t0 = duration · startW / (startW − endW), and each side is a triangle, so the split is exact
 * for the linear model and importWh − exportWh equals the plain trapezoid.
 */
export function trapezoidEnergyWh(
  startW: number,
  endW: number,
  durationMs: number,
): DirectedEnergy {
  const hours = durationMs / MS_PER_HOUR;
  if (startW >= 0 && endW >= 0) return { importWh: ((startW + endW) / 2) * hours, exportWh: 0 };
  if (startW <= 0 && endW <= 0) return { importWh: 0, exportWh: (-(startW + endW) / 2) * hours };
  const zeroAtHours = (hours * startW) / (startW - endW);
  const firstWh = (Math.abs(startW) * zeroAtHours) / 2;
  const secondWh = (Math.abs(endW) * (hours - zeroAtHours)) / 2;
  return startW > 0
    ? { importWh: firstWh, exportWh: secondWh }
    : { importWh: secondWh, exportWh: firstWh };
}
