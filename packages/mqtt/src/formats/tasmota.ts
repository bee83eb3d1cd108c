import { mappedReadings, measures } from './channels.ts';
import type { ChannelFields, ChannelTime } from './channels.ts';
import { instantOfWallTime, isoOfMs, parseDeviceTime } from './device-time.ts';
import { isObject, jsonKind, parseJson } from './json.ts';
import type { JsonObject } from './json.ts';
import { nothing, refuse } from './types.ts';
import type { ChannelMapping, Decoded, TopicRoute } from './types.ts';

type TasmotaRoute = Extract<TopicRoute, { format: 'tasmota' }>;

/** Below this a Wh value has a millionth's place a double can hold (2^53 / 10^6). */
const ROUNDABLE_WH = 2 ** 53 / 1e6;

/**
 * kWh as Tasmota reports them, in Wh. The product of a decimal kWh and 1000 is often not the
 * decimal Wh (1.005 × 1000 = 1004.9999999999999), so it is rounded to a millionth of a Wh: far
 * below any meter's resolution, within 10^-6 Wh of the product, and the double nearest the decimal
 * Wh for every value Tasmota writes (at most 5 decimals) below 10^6 kWh, a 6-digit kWh register.
 * Above 9 × 10^9 Wh a double has no millionths to round to, and the product is kept.
 */
export function kWhToWh(kWh: number): number {
  const wh = kWh * 1000;
  return Math.abs(wh) < ROUNDABLE_WH ? Math.round(wh * 1e6) / 1e6 : wh;
}

/**
 * The `ENERGY` keys read, and what a single number means on a device of several channels:
 * Tasmota writes one value per channel as an array, but a value common to all channels as one
 * number (the voltage, unless SetOption150), and the sum of the channels' counters as one number
 * (the `Total`, unless SetOption129: https://tasmota.github.io/docs/Commands/#setoption129). A sum
 * is no channel's counter, so it is read only on a device of one channel.
 */
const ENERGY_FIELDS = [
  { key: 'Power', field: 'powerW', single: 'channel', scale: (w: number) => w },
  { key: 'Voltage', field: 'voltageV', single: 'common', scale: (v: number) => v },
  { key: 'Current', field: 'currentA', single: 'channel', scale: (a: number) => a },
  { key: 'Total', field: 'importWh', single: 'sum', scale: kWhToWh },
  { key: 'ExportActive', field: 'exportWh', single: 'sum', scale: kWhToWh },
] as const;

type Values = readonly (number | undefined)[] | number | undefined;

const isList = (values: Values): values is readonly (number | undefined)[] => Array.isArray(values);

/** A key's value: a number, an array with one number (or null) per channel, or absent. */
function valuesAt(energy: JsonObject, key: string): Values | string {
  const value = energy[key];
  if (value === undefined || value === null) return undefined;
  const bad = (got: unknown) => `ENERGY.${key}: expected a finite number, got ${jsonKind(got)}`;
  if (typeof value === 'number') return Number.isFinite(value) ? value : bad(value);
  if (!Array.isArray(value)) return bad(value);
  const values: (number | undefined)[] = [];
  for (const element of value as unknown[]) {
    if (element === null) values.push(undefined);
    else if (typeof element === 'number' && Number.isFinite(element)) values.push(element);
    else return bad(element);
  }
  return values;
}

/** Each channel's fields from the `ENERGY` object of a SENSOR message. */
function channelsOf(energy: JsonObject): Map<number, ChannelFields> | string {
  const read: { readonly values: Values; readonly spec: (typeof ENERGY_FIELDS)[number] }[] = [];
  let channelCount = 1;
  for (const spec of ENERGY_FIELDS) {
    const values = valuesAt(energy, spec.key);
    if (typeof values === 'string') return values;
    if (isList(values)) channelCount = Math.max(channelCount, values.length);
    read.push({ values, spec });
  }
  const channels = new Map<number, ChannelFields>();
  for (let channel = 0; channel < channelCount; channel++) {
    const fields: Record<string, number> = {};
    for (const { values, spec } of read) {
      const value = isList(values)
        ? values[channel]
        : channelCount === 1 || spec.single === 'common'
          ? values
          : undefined;
      if (value === undefined) continue;
      const scaled = spec.scale(value);
      if (!Number.isFinite(scaled))
        return `ENERGY.${spec.key}: ${value} is more than a reading can hold`;
      fields[spec.field] = scaled;
    }
    if (measures(fields)) channels.set(channel, fields);
  }
  return channels;
}

/**
 * When a SENSOR message was measured. `Epoch` (Tasmota's `Time 2`) and a numeric `Time` (`Time 3`)
 * are Unix seconds; a `Time` with an offset (SetOption52) is an instant; a `Time` without one is
 * the device's local clock, read in the mapping's zone — or, with none given, replaced by the
 * time the bridge received the message (https://tasmota.github.io/docs/Commands/#time).
 */
function timeOf(
  message: JsonObject,
  receivedAtMs: number,
): Decoded | ((mapping: ChannelMapping) => ChannelTime) {
  const instant = (ms: number, what: string): ChannelTime => {
    const iso = isoOfMs(ms);
    return iso === undefined
      ? { ok: false, reason: 'invalid-payload', message: `${what}: no time a date can hold` }
      : { ok: true, time: iso };
  };
  const { Epoch: epoch, Time: time } = message;
  if (typeof epoch === 'number') {
    const at = instant(epoch * 1000, 'Epoch');
    return () => at;
  }
  if (typeof time === 'number') {
    const at = instant(time * 1000, 'Time');
    return () => at;
  }
  if (time === undefined || time === null) {
    const at = instant(receivedAtMs, 'the receive time');
    return () => at;
  }
  if (typeof time !== 'string')
    return refuse('invalid-payload', `Time: expected a date-time, got ${jsonKind(time)}`);
  const parsed = parseDeviceTime(time);
  if (parsed === undefined)
    return refuse('invalid-payload', `Time: ${time} is not an ISO 8601 date-time`);
  if (parsed.kind === 'instant') {
    const at = instant(parsed.ms, 'Time');
    return () => at;
  }
  const received = instant(receivedAtMs, 'the receive time');
  return (mapping) => {
    if (mapping.timeZone === undefined) return received;
    let ms: number;
    try {
      ms = instantOfWallTime(parsed.wallMs, mapping.timeZone);
    } catch {
      return {
        ok: false,
        reason: 'invalid-mapping',
        message: `channel ${mapping.channel}: time zone ${mapping.timeZone} is not one this runtime knows`,
      };
    }
    return instant(ms, 'Time');
  };
}

/**
 * A Tasmota message as readings of the mapped channels. Only telemetry (`tele/SENSOR`) carries
 * energy; every other message (`tele/STATE`, `tele/LWT`'s plain `Online`, `stat/RESULT`, `cmnd/…`)
 * is left unread and yields nothing. Units: Power W, Voltage V, Current A, Total and ExportActive
 * kWh (the table of https://tasmota.github.io/docs/devices/Sonoff-Pow-R2/; Tasmota 8.4 or later,
 * whose `Total` and `ExportActive` are counters, their tariffs in `TotalTariff` and `ExportTariff`).
 */
export function decodeTasmota(
  route: TasmotaRoute,
  payload: Uint8Array,
  mappings: readonly ChannelMapping[],
  receivedAtMs: number,
): Decoded {
  if (route.prefix !== 'tele' || route.messageType !== 'SENSOR') return nothing();
  const parsed = parseJson(payload);
  if (!parsed.ok) return parsed;
  const message = parsed.json;
  if (!isObject(message))
    return refuse('invalid-payload', `expected a SENSOR object, got ${jsonKind(message)}`);
  const energy = message.ENERGY;
  // A SENSOR message of other sensors only (a DS18B20's temperature) measures no energy.
  if (energy === undefined || energy === null) return nothing();
  if (!isObject(energy))
    return refuse('invalid-payload', `ENERGY: expected an object, got ${jsonKind(energy)}`);
  const channels = channelsOf(energy);
  if (typeof channels === 'string') return refuse('invalid-payload', channels);
  if (channels.size === 0) return nothing();
  const time = timeOf(message, receivedAtMs);
  if (typeof time !== 'function') return time;
  return mappedReadings(route.root, channels, mappings, time);
}
