import { mappedReadings, measures } from './channels.ts';
import type { ChannelFields } from './channels.ts';
import { isoOfMs } from './device-time.ts';
import { isObject, jsonKind, parseJson } from './json.ts';
import {
  carriesMeasurement,
  componentFields,
  isMeteringComponent,
  METERING_COMPONENTS,
} from './shelly-components.ts';
import { nothing, refuse } from './types.ts';
import type { ChannelMapping, Decoded, TopicRoute } from './types.ts';

type ShellyRoute = Extract<TopicRoute, { format: 'shelly' }>;

/** `switch:1` → type `switch`, channel 1; a component of one instance has no `:<id>` (`sys`). */
const COMPONENT_KEY = /^([a-z][a-z0-9_]*)(?::(\d{1,9}))?$/;

/** A device's components as one message reports them, merged by channel. */
class ChannelCollector {
  readonly channels = new Map<number, ChannelFields>();
  /** Components that measure power or energy of a type gridstream does not read. */
  readonly unread: string[] = [];

  /** Adds one component's status; a message to refuse the payload with, or undefined. */
  add(key: string, status: unknown): string | undefined {
    const match = COMPONENT_KEY.exec(key);
    if (match === null) return undefined;
    const [, type = '', id] = match;
    if (!isMeteringComponent(type)) {
      if (isObject(status) && carriesMeasurement(status)) this.unread.push(key);
      return undefined;
    }
    const read = componentFields(type, status, key);
    if (!read.ok) return read.message;
    const channel = id === undefined ? 0 : Number(id);
    // Two components of one channel (a Pro EM's em1:0 and em1data:0) make one reading; were a
    // field in both, the first component's value stands.
    this.channels.set(channel, { ...read.fields, ...this.channels.get(channel) });
    return undefined;
  }

  /** The channels that measured something a reading can carry. */
  measuring(): Map<number, ChannelFields> {
    return new Map([...this.channels].filter(([, fields]) => measures(fields)));
  }
}

function readingsOf(
  route: ShellyRoute,
  collector: ChannelCollector,
  mappings: readonly ChannelMapping[],
  time: string,
): Decoded {
  const measuring = collector.measuring();
  if (measuring.size === 0 && collector.unread.length > 0)
    return refuse(
      'unknown-component',
      `${collector.unread.join(', ')} measures power or energy, but gridstream reads ${METERING_COMPONENTS.join(', ')} only`,
    );
  return mappedReadings(route.root, measuring, mappings, () => ({ ok: true, time }));
}

/**
 * A JSON-RPC notification of `<prefix>/events/rpc` (Shelly's Notifications page,
 * https://shelly-api-docs.shelly.cloud/gen2/General/Notifications): `NotifyStatus` carries the
 * components whose status changed, often in part; `NotifyFullStatus` all of them; `NotifyEvent`
 * (a button pressed, a config changed) measures nothing. The time is `params.ts`, Unix seconds.
 */
function decodeNotification(
  route: ShellyRoute,
  json: unknown,
  mappings: readonly ChannelMapping[],
  receivedAtMs: number,
): Decoded {
  if (!isObject(json))
    return refuse('invalid-payload', `expected a JSON-RPC notification, got ${jsonKind(json)}`);
  const { method, params } = json;
  if (method === 'NotifyEvent') return nothing();
  if (method !== 'NotifyStatus' && method !== 'NotifyFullStatus')
    return refuse(
      'invalid-payload',
      `method: expected NotifyStatus, NotifyFullStatus or NotifyEvent, got ${typeof method === 'string' ? method : jsonKind(method)}`,
    );
  if (!isObject(params))
    return refuse('invalid-payload', `params: expected an object, got ${jsonKind(params)}`);
  const { ts } = params;
  let timeMs = receivedAtMs;
  if (ts !== undefined && ts !== null) {
    if (typeof ts !== 'number')
      return refuse('invalid-payload', `params.ts: expected Unix seconds, got ${jsonKind(ts)}`);
    timeMs = ts * 1000;
  }
  const time = isoOfMs(timeMs);
  if (time === undefined)
    return refuse('invalid-payload', `params.ts: ${String(ts)} is no time a date can hold`);
  const collector = new ChannelCollector();
  for (const [key, status] of Object.entries(params)) {
    if (key === 'ts') continue;
    const problem = collector.add(key, status);
    if (problem !== undefined) return refuse('invalid-payload', `params.${problem}`);
  }
  return readingsOf(route, collector, mappings, time);
}

/**
 * The status object of `<prefix>/status/<component>` (the MQTT component's `status_ntf`,
 * https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt): the component's whole
 * status, with no time stamp of its own, so it was measured when the bridge received it.
 */
function decodeStatus(
  route: ShellyRoute,
  component: string,
  json: unknown,
  mappings: readonly ChannelMapping[],
  receivedAtMs: number,
): Decoded {
  const time = isoOfMs(receivedAtMs);
  if (time === undefined) return refuse('invalid-payload', 'no receive time');
  const collector = new ChannelCollector();
  const problem = collector.add(component, json);
  if (problem !== undefined) return refuse('invalid-payload', problem);
  return readingsOf(route, collector, mappings, time);
}

/** A Shelly Gen2+ message (Plus, Pro, Gen3, Gen4) as readings of the mapped channels. */
export function decodeShelly(
  route: ShellyRoute,
  payload: Uint8Array,
  mappings: readonly ChannelMapping[],
  receivedAtMs: number,
): Decoded {
  if (route.kind === 'other') return nothing();
  const parsed = parseJson(payload);
  if (!parsed.ok) return parsed;
  return route.kind === 'rpc'
    ? decodeNotification(route, parsed.json, mappings, receivedAtMs)
    : decodeStatus(route, route.component ?? '', parsed.json, mappings, receivedAtMs);
}
