/** How a counter register wraps: it counts up to `wrapAtWh` and continues from 0. */
export interface CounterRollover {
  /** The register value that reads as 0 again (maximum shown value + one step), in Wh. */
  readonly wrapAtWh: number;
  /** A decrease counts as a rollover only if the wrapped delta is at most this, else a reset. */
  readonly maxDeltaWh: number;
}

/**
 * The rollover of a register that wraps at `wrapAtWh` (a device's `counterWrapWh`), or undefined
 * without one. A decrease is a rollover when the wrapped delta is at most 1 % of the register:
 * a counter close below the top that reads little again has wrapped; a counter that falls from
 * anywhere lower has been reset.
 */
export function counterRolloverOf(wrapAtWh: number | undefined): CounterRollover | undefined {
  return wrapAtWh === undefined ? undefined : { wrapAtWh, maxDeltaWh: wrapAtWh / 100 };
}

/** The settings of one device: the deployment's, with the device's own counter register. */
export function deviceEnergySettings(
  settings: EnergySettings,
  counterWrapWh: number | undefined,
): EnergySettings {
  return counterWrapWh === undefined
    ? settings
    : { ...settings, counterRollover: counterRolloverOf(counterWrapWh) };
}

export interface EnergySettings {
  /** Power is never integrated across a longer interval between two readings. */
  readonly maxIntegrationGapMs: number;
  /** Undefined: the device's counters never roll over, every decrease is a reset. */
  readonly counterRollover: CounterRollover | undefined;
  /**
   * Two consecutive counter readings at most this far apart are a counter span: the readings
   * between them only split its delta (counter-span.ts). Farther apart, with readings between,
   * the intervals between are measured by power as if the counters were not there. It bounds
   * what a timeline must hold and what a reload must read (docs/energy.md).
   */
  readonly maxCounterSpanMs: number;
}

export const DEFAULT_ENERGY_SETTINGS: EnergySettings = {
  maxIntegrationGapMs: 15 * 60_000,
  counterRollover: undefined,
  maxCounterSpanMs: 60 * 60_000,
};
