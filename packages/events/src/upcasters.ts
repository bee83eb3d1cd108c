import type { z } from 'zod';
import { catalogue, EventType, isEventType } from './catalogue.ts';
import type { EventDataByType, LogicalTopic } from './catalogue.ts';
import { formatIssues } from './issues.ts';
import { DeviceRegisteredV1 } from './payloads.ts';
import type { DeviceRegisteredV2 } from './payloads.ts';

/**
 * Event types our producers no longer write. The log keeps them for ever, and a producer of
 * another team may still send them: decoding upcasts them, so consumers never see them.
 */
export const SupersededEventType = {
  deviceRegisteredV1: 'gridstream.device.registered.v1',
} as const;
export type SupersededEventType = (typeof SupersededEventType)[keyof typeof SupersededEventType];

/**
 * An upcaster turns the payload of an older event version into the next version's, meaning the
 * same. Consumers only ever see the newest version; old events stay in the log unchanged.
 */
export interface Upcaster {
  /** The next version: a current type, or another superseded one on the way to it. */
  readonly to: EventType | SupersededEventType;
  /** The topic of the type it ends at: an old version travels where the new one does. */
  readonly topic: LogicalTopic;
  /** The old version's payload: checked before upcasting, and shown in the JSON Schema export. */
  readonly schema: z.ZodType;
  readonly description: string;
  /** Pure and total on what `schema` passed. */
  readonly upcast: (data: unknown) => unknown;
}

function upcaster<Schema extends z.ZodType, To extends EventType>(definition: {
  readonly to: To;
  readonly schema: Schema;
  readonly description: string;
  readonly upcast: (data: z.output<Schema>) => EventDataByType[To];
}): Upcaster {
  return {
    ...definition,
    topic: catalogue[definition.to].topic,
    // upcastToCurrent hands it only what `schema` has parsed
    upcast: (data) => definition.upcast(data as z.output<Schema>),
  };
}

/** v1 -> v2: `ratedPowerW` and `counterWrapWh` go into `nameplate` (none when neither is given). */
export function upcastDeviceRegisteredV1(v1: DeviceRegisteredV1): DeviceRegisteredV2 {
  const { ratedPowerW, counterWrapWh, actor, ...fields } = v1;
  return {
    ...fields,
    ...(ratedPowerW === undefined && counterWrapWh === undefined
      ? {}
      : {
          nameplate: {
            ...(ratedPowerW === undefined ? {} : { ratedPowerW }),
            ...(counterWrapWh === undefined ? {} : { counterWrapWh }),
          },
        }),
    ...(actor === undefined ? {} : { actor }),
  };
}

/** Old type -> how to reach the next version. */
export const upcasters: Readonly<Record<SupersededEventType, Upcaster>> = {
  [SupersededEventType.deviceRegisteredV1]: upcaster({
    to: EventType.deviceRegistered,
    schema: DeviceRegisteredV1,
    description:
      'A device joined a site (v1: ratedPowerW and counterWrapWh at the top level). Superseded by v2; decoded as v2.',
    upcast: upcastDeviceRegisteredV1,
  }),
};

export function isSupersededEventType(type: string): type is SupersededEventType {
  return Object.hasOwn(upcasters, type);
}

export type Upcast =
  | { readonly ok: true; readonly type: EventType; readonly data: unknown }
  | { readonly ok: false; readonly reason: string };

/** More hops than any chain of versions should ever need: a cycle, not a chain. */
const MAX_HOPS = 16;

/**
 * The newest version of an event's payload: each older version's data is checked against its
 * own schema (so a v1 producer's mistake is told in v1's terms) and upcast, until the type is a
 * current one. The result still has to pass the current type's schema (decodeEvent does that).
 */
export function upcastToCurrent(type: string, data: unknown): Upcast {
  let current = type;
  let payload = data;
  for (let hops = 0; !isEventType(current); hops++) {
    if (!isSupersededEventType(current) || hops >= MAX_HOPS)
      return { ok: false, reason: `unknown event type ${current}` };
    const step = upcasters[current];
    const parsed = step.schema.safeParse(payload);
    if (!parsed.success)
      return {
        ok: false,
        reason: `invalid ${current} data: ${formatIssues(parsed.error.issues)}`,
      };
    payload = step.upcast(parsed.data);
    current = step.to;
  }
  return { ok: true, type: current, data: payload };
}
