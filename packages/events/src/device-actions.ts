import { z } from 'zod';
import type { DeviceKind } from './domain.ts';

const finite = z.number().refine(Number.isFinite, 'a finite number');

/**
 * What a command asks a device to do. Each action has the parameters it takes (strict: an
 * unknown parameter is refused, so a typo never reaches a device) and the device kinds that can
 * do it. The simulator answers exactly these; the API refuses anything else.
 */
export const CommandAction = z.enum([
  'switch_on',
  'switch_off',
  'set_power_limit',
  'pause_charging',
  'resume_charging',
  'set_target_temperature',
]);
export type CommandAction = z.infer<typeof CommandAction>;

export const ActionParameters = {
  switch_on: z.strictObject({}),
  switch_off: z.strictObject({}),
  /** A battery's charge/discharge limit, an inverter's export limit, a charger's current limit as W. */
  set_power_limit: z.strictObject({ limitW: finite.min(0).max(1_000_000) }),
  pause_charging: z.strictObject({}),
  resume_charging: z.strictObject({}),
  set_target_temperature: z.strictObject({ temperatureC: finite.min(5).max(75) }),
} as const satisfies Record<CommandAction, z.ZodType>;

/** The actions each device kind supports. A meter only measures. */
export const ACTIONS_BY_KIND: Readonly<Record<DeviceKind, readonly CommandAction[]>> = {
  smart_plug: ['switch_on', 'switch_off'],
  meter: [],
  solar_inverter: ['set_power_limit'],
  battery: ['set_power_limit'],
  heat_pump: ['switch_on', 'switch_off', 'set_target_temperature'],
  ev_charger: ['pause_charging', 'resume_charging', 'set_power_limit'],
};

export function supportsAction(kind: DeviceKind, action: CommandAction): boolean {
  return ACTIONS_BY_KIND[kind].includes(action);
}
