import type { PhaseValues } from '@gridstream/events';
import type { ChannelFields } from './channels.ts';
import { isObject, jsonKind } from './json.ts';
import type { JsonObject } from './json.ts';

/**
 * How the status of each metering component of Shelly's Gen2+ API reads as gridstream fields.
 * The names and units are Shelly's (https://shelly-api-docs.shelly.cloud/gen2/): power in W,
 * voltage in V, current in A, energy counters in Wh — gridstream's units already, nothing is
 * scaled.
 *
 * - Switch, PM1 (ComponentsAndServices/Switch, /PM1): `apower`, `voltage`, `current`,
 *   `aenergy.total` (consumed), `ret_aenergy.total` (returned to the grid, where the device
 *   measures it), `temperature.tC`.
 * - EM (/EM, the Pro 3EM's three phases): `total_act_power`; per phase `a_act_power`,
 *   `a_voltage`, `a_current` (and b_, c_).
 * - EMData (/EMData): `total_act`, `total_act_ret` — the three phases' counters summed.
 * - EM1 (/EM1, the Pro EM's and EM Gen3's channels): `act_power`, `voltage`, `current`.
 * - EM1Data (/EM1Data): `total_act_energy`, `total_act_ret_energy`.
 *
 * A value may be missing (a NotifyStatus carries what changed) or null (Shelly's way to say a
 * key went away, or a sensor is out of range): either way the field is left out.
 */
export const METERING_COMPONENTS = ['switch', 'pm1', 'em', 'emdata', 'em1', 'em1data'] as const;
export type MeteringComponent = (typeof METERING_COMPONENTS)[number];

export const isMeteringComponent = (type: string): type is MeteringComponent =>
  (METERING_COMPONENTS as readonly string[]).includes(type);

/** Keys that carry power or energy in any component: a component of another type with one of
 *  these measures something gridstream does not read (a cover's motor, a dimmer's light). */
const METERING_KEYS = [
  'apower',
  'aenergy',
  'act_power',
  'total_act_power',
  'total_act',
  'total_act_energy',
];

export const carriesMeasurement = (status: JsonObject): boolean =>
  METERING_KEYS.some((key) => status[key] !== undefined && status[key] !== null);

/** A component's fields, or what is wrong with them. */
export type ComponentFields =
  | { readonly ok: true; readonly fields: ChannelFields }
  | { readonly ok: false; readonly message: string };

class BadField extends Error {}

/** A number at `key` of `status`, undefined when missing or null; throws BadField otherwise. */
function numberAt(status: JsonObject, key: string, at: string): number | undefined {
  const value = status[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new BadField(`${at}.${key}: expected a finite number, got ${jsonKind(value)}`);
  return value;
}

/** A number at `outer.inner` (`aenergy.total`). */
function nestedNumberAt(
  status: JsonObject,
  outer: string,
  inner: string,
  at: string,
): number | undefined {
  const value = status[outer];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value))
    throw new BadField(`${at}.${outer}: expected an object, got ${jsonKind(value)}`);
  return numberAt(value, inner, `${at}.${outer}`);
}

/** Copies the defined values only: the catalogue's schemas refuse no key, but an explicit
 *  undefined would be a key nonetheless. */
function defined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

function phaseOf(status: JsonObject, letter: 'a' | 'b' | 'c', at: string): PhaseValues | undefined {
  const phase = defined({
    powerW: numberAt(status, `${letter}_act_power`, at),
    voltageV: numberAt(status, `${letter}_voltage`, at),
    currentA: numberAt(status, `${letter}_current`, at),
  });
  return Object.keys(phase).length === 0 ? undefined : phase;
}

function fieldsOf(type: MeteringComponent, status: JsonObject, at: string): ChannelFields {
  switch (type) {
    case 'switch':
    case 'pm1':
      return defined({
        powerW: numberAt(status, 'apower', at),
        importWh: nestedNumberAt(status, 'aenergy', 'total', at),
        exportWh: nestedNumberAt(status, 'ret_aenergy', 'total', at),
        voltageV: numberAt(status, 'voltage', at),
        currentA: numberAt(status, 'current', at),
        temperatureC: nestedNumberAt(status, 'temperature', 'tC', at),
      });
    case 'em': {
      const phases = defined({
        l1: phaseOf(status, 'a', at),
        l2: phaseOf(status, 'b', at),
        l3: phaseOf(status, 'c', at),
      });
      return defined({
        powerW: numberAt(status, 'total_act_power', at),
        phases: Object.keys(phases).length === 0 ? undefined : phases,
      });
    }
    case 'emdata':
      return defined({
        importWh: numberAt(status, 'total_act', at),
        exportWh: numberAt(status, 'total_act_ret', at),
      });
    case 'em1':
      return defined({
        powerW: numberAt(status, 'act_power', at),
        voltageV: numberAt(status, 'voltage', at),
        currentA: numberAt(status, 'current', at),
      });
    case 'em1data':
      return defined({
        importWh: numberAt(status, 'total_act_energy', at),
        exportWh: numberAt(status, 'total_act_ret_energy', at),
      });
  }
}

/** The gridstream fields of one metering component's status object; `at` names it in messages. */
export function componentFields(
  type: MeteringComponent,
  status: unknown,
  at: string,
): ComponentFields {
  if (!isObject(status))
    return {
      ok: false,
      message: `${at}: expected the component's status object, got ${jsonKind(status)}`,
    };
  try {
    return { ok: true, fields: fieldsOf(type, status, at) };
  } catch (error) {
    if (error instanceof BadField) return { ok: false, message: error.message };
    throw error;
  }
}
