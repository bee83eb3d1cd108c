import fc from 'fast-check';
import { encodeEvent, EventType, SupersededEventType } from '@gridstream/events';
import type {
  DeviceRegisteredV1,
  DeviceRegisteredV2,
  EncodedRecord,
  GridstreamEvent,
} from '@gridstream/events';

/**
 * Fixtures for logs that mix event versions: a registration written by a v1 producer and the same
 * registration written by a v2 producer, as Kafka records (docs/events.md, Versions).
 */

/** Any valid v1 registration of `deviceId`, with or without each optional field. */
export function registrationV1(deviceId: string): fc.Arbitrary<DeviceRegisteredV1> {
  return fc.record(
    {
      deviceId: fc.constant(deviceId),
      siteId: fc.constantFrom('site-1', 'home'),
      kind: fc.constantFrom(
        'smart_plug',
        'meter',
        'solar_inverter',
        'battery',
        'heat_pump',
        'ev_charger',
      ),
      role: fc.constantFrom('consumer', 'producer', 'storage', 'grid'),
      name: fc.string({ minLength: 1, maxLength: 40 }),
      timeZone: fc.constantFrom('Europe/Berlin', 'UTC', 'America/New_York'),
      ratedPowerW: fc.integer({ min: 1, max: 1e9 }),
      counterWrapWh: fc.constantFrom(100_000, 1_000_000, 1_000_000_000),
      actor: fc.constantFrom('key:abc', 'operator:ann'),
    },
    { requiredKeys: ['deviceId', 'siteId', 'kind', 'role', 'name', 'timeZone'] },
  );
}

/** The same registration as a v2 producer writes it, mapped by hand (not by the upcaster). */
export function registrationV2Of(v1: DeviceRegisteredV1): DeviceRegisteredV2 {
  const { ratedPowerW, counterWrapWh, actor, ...fields } = v1;
  const nameplate = {
    ...(ratedPowerW === undefined ? {} : { ratedPowerW }),
    ...(counterWrapWh === undefined ? {} : { counterWrapWh }),
  };
  return {
    ...fields,
    ...(Object.keys(nameplate).length === 0 ? {} : { nameplate }),
    ...(actor === undefined ? {} : { actor }),
  };
}

export type Version = 'v1' | 'v2';

/** One registration's record, written as `version`; the envelope is the event's otherwise. */
export function registrationRecord(
  envelope: Omit<GridstreamEvent, 'type' | 'data'>,
  v1: DeviceRegisteredV1,
  version: Version,
): EncodedRecord {
  const v2 = encodeEvent({
    ...envelope,
    type: EventType.deviceRegistered,
    data: registrationV2Of(v1),
  });
  if (version === 'v2') return v2;
  return {
    ...v2,
    value: JSON.stringify(v1),
    headers: { ...v2.headers, ce_type: SupersededEventType.deviceRegisteredV1 },
  };
}

/** An event of a device's log: a registration (as v1 data) or any current event. */
export type LogEntry =
  | {
      readonly registration: DeviceRegisteredV1;
      readonly envelope: Omit<GridstreamEvent, 'type' | 'data'>;
    }
  | { readonly event: GridstreamEvent };

/** The log's records with each registration written as `versionOf(its index)` says. */
export function logRecords(
  log: readonly LogEntry[],
  versionOf: (index: number) => Version,
): EncodedRecord[] {
  return log.map((entry, i) =>
    'event' in entry
      ? encodeEvent(entry.event)
      : registrationRecord(entry.envelope, entry.registration, versionOf(i)),
  );
}
