/** How a counter register wraps: it counts up to `wrapAtWh` and continues from 0. */
export interface CounterRollover {
  /** The register value that reads as 0 again (maximum shown value + one step), in Wh. */
  readonly wrapAtWh: number;
  /** A decrease counts as a rollover only if the wrapped delta is at most this, else a reset. */
  readonly maxDeltaWh: number;
}

export interface EnergySettings {
  /** Power is never integrated across a longer interval between two readings. */
  readonly maxIntegrationGapMs: number;
  /** Undefined: the device's counters never roll over, every decrease is a reset. */
  readonly counterRollover: CounterRollover | undefined;
}

export const DEFAULT_ENERGY_SETTINGS: EnergySettings = {
  maxIntegrationGapMs: 15 * 60_000,
  counterRollover: undefined,
};
