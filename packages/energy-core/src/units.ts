/** Time constants for the energy core. Energy (Wh) = power (W) × time (ms) / MS_PER_HOUR. */
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const QUARTER_HOUR_MS = 15 * MS_PER_MINUTE;

/** The non-negative remainder, so bucket arithmetic also works before 1970. */
export function floorMod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}
