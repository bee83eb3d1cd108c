import type { CounterRollover } from './settings.ts';

export type CounterChange = 'increase' | 'reset' | 'rollover';

export interface CounterDelta {
  /** Never negative. */
  readonly deltaWh: number;
  readonly change: CounterChange;
}

/**
 * Energy counted between two readings of one cumulative counter. A counter that goes down has
 * either wrapped past its register maximum (rollover: the delta runs through the wrap) or
 * restarted (reset: replaced meter, firmware reset). A reset restarts from 0, so the energy
 * since it is the new value — the rule Home Assistant applies to `total_increasing` sensors.
 */
export function counterDeltaWh(
  previousWh: number,
  nextWh: number,
  rollover: CounterRollover | undefined,
): CounterDelta {
  if (nextWh >= previousWh) return { deltaWh: nextWh - previousWh, change: 'increase' };
  if (rollover !== undefined && previousWh <= rollover.wrapAtWh) {
    const wrappedWh = rollover.wrapAtWh - previousWh + nextWh;
    if (wrappedWh <= rollover.maxDeltaWh) return { deltaWh: wrappedWh, change: 'rollover' };
  }
  return { deltaWh: nextWh, change: 'reset' };
}
