import { ActionParameters } from '@gridstream/events';
import type { CommandDispatchedV1, CommandOutcome } from '@gridstream/events';
import type { SimulatedDevice } from './fleet.ts';

/** A device's chance of being out of reach when a command comes (it answers nothing). */
export const COMMAND_OFFLINE_CHANCE = 0.05;
/** Its chance of acknowledging, trying, and failing. */
export const COMMAND_FAILURE_CHANCE = 0.1;

export interface PlannedReply {
  readonly outcome: CommandOutcome;
  /** After the dispatch arrived. */
  readonly afterMs: number;
  readonly reason?: string;
}

/**
 * How a simulated device answers a dispatch, as real ones do: now and then not at all
 * (offline), else an acknowledgement within 0.1-0.6 s and a result 0.3-2 s later, sometimes a
 * failure. A dispatch past its expiry is ignored, as a device must. Pure: the randomness comes in.
 */
export function planReplies(
  dispatched: CommandDispatchedV1,
  nowMs: number,
  random: () => number,
): PlannedReply[] {
  if (Date.parse(dispatched.expiresAt) <= nowMs || random() < COMMAND_OFFLINE_CHANCE) return [];
  const ackMs = Math.round(100 + random() * 500);
  const resultMs = ackMs + Math.round(300 + random() * 1_700);
  const fails = random() < COMMAND_FAILURE_CHANCE;
  return [
    { outcome: 'acknowledged', afterMs: ackMs },
    fails
      ? { outcome: 'failed', afterMs: resultMs, reason: 'the device is busy; try again later' }
      : { outcome: 'succeeded', afterMs: resultMs },
  ];
}

/** What a command that succeeded does to the device: its readings follow from the next one on. */
export function applyCommand(device: SimulatedDevice, dispatched: CommandDispatchedV1): void {
  switch (dispatched.action) {
    case 'switch_off':
    case 'pause_charging':
      device.off = true;
      return;
    case 'switch_on':
    case 'resume_charging':
      device.off = false;
      return;
    case 'set_power_limit': {
      const parameters = ActionParameters.set_power_limit.safeParse(dispatched.parameters);
      if (parameters.success) device.powerLimitW = parameters.data.limitW;
      return;
    }
    case 'set_target_temperature':
      // The simulated heat pump keeps its pattern; the acknowledgement is what a test sees.
      return;
  }
}
