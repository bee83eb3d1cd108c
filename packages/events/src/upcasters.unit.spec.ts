import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  catalogue,
  decodeEvent,
  DeviceRegisteredV2,
  encodeEvent,
  EventType,
  isEventType,
  SupersededEventType,
  upcasters,
  upcastToCurrent,
} from './index.ts';
import type { DeviceRegisteredV1, EncodedRecord, GridstreamEvent } from './index.ts';

const V1 = SupersededEventType.deviceRegisteredV1;

/** A registration record as a producer writing the v1 shape straight to Kafka sends it. */
function v1Record(data: DeviceRegisteredV1 | Record<string, unknown>, type: string = V1) {
  const deviceId = typeof data.deviceId === 'string' ? data.deviceId : 'meter-1';
  return {
    key: deviceId,
    value: JSON.stringify(data),
    headers: {
      ce_specversion: '1.0',
      ce_id: '019a0000-0000-7000-8000-0000000000aa',
      ce_type: type,
      ce_source: 'legacy-gateway',
      ce_subject: deviceId,
      ce_time: '2026-03-29T00:00:00.000Z',
      ce_tenant: 'acme',
      'content-type': 'application/json',
    },
  } satisfies EncodedRecord;
}

const meterV1: DeviceRegisteredV1 = {
  deviceId: 'meter-1',
  siteId: 'site-1',
  kind: 'meter',
  role: 'grid',
  name: 'Main meter',
  timeZone: 'Europe/Berlin',
  ratedPowerW: 17_000,
  counterWrapWh: 1_000_000_000,
  actor: 'key:abc',
};

describe('decoding a superseded version', () => {
  it('decodes a v1 registration as v2, its rating and register size in nameplate', () => {
    // given a v1 registration as a v1 producer writes it to Kafka
    // when it is decoded
    const decoded = decodeEvent(v1Record(meterV1));
    // then consumers see a v2 registration meaning the same, on the devices topic
    expect(decoded).toEqual({
      ok: true,
      topic: 'devices',
      event: {
        id: '019a0000-0000-7000-8000-0000000000aa',
        type: 'gridstream.device.registered.v2',
        source: 'legacy-gateway',
        subject: 'meter-1',
        time: '2026-03-29T00:00:00.000Z',
        tenant: 'acme',
        data: {
          deviceId: 'meter-1',
          siteId: 'site-1',
          kind: 'meter',
          role: 'grid',
          name: 'Main meter',
          timeZone: 'Europe/Berlin',
          nameplate: { ratedPowerW: 17_000, counterWrapWh: 1_000_000_000 },
          actor: 'key:abc',
        },
      },
    });
  });

  it('gives a v1 registration without rating or register no nameplate at all', () => {
    const { ratedPowerW: _r, counterWrapWh: _c, actor: _a, ...bare } = meterV1;
    const decoded = decodeEvent(v1Record(bare));
    expect(decoded.ok && decoded.event.data).toEqual(bare);
  });

  it.each([
    [
      'a v1 value out of bounds, told in v1 terms',
      v1Record({ ...meterV1, ratedPowerW: -5 }),
      /^invalid gridstream\.device\.registered\.v1 data: ratedPowerW: /,
    ],
    [
      'the v2 shape sent as v1',
      v1Record({ ...meterV1, ratedPowerW: undefined, nameplate: { ratedPowerW: 5 } }),
      /^invalid gridstream\.device\.registered\.v1 data: .*nameplate/,
    ],
    [
      'the v1 shape sent as v2',
      v1Record(meterV1, EventType.deviceRegistered),
      /^invalid gridstream\.device\.registered\.v2 data: .*ratedPowerW/,
    ],
    [
      'a v1 registration for another device than its subject',
      {
        ...v1Record(meterV1),
        key: 'meter-2',
        headers: { ...v1Record(meterV1).headers, ce_subject: 'meter-2' },
      },
      /data\.deviceId meter-1 is not the subject meter-2/,
    ],
    [
      'a version nobody defined',
      v1Record(meterV1, 'gridstream.device.registered.v0'),
      /^unknown event type gridstream\.device\.registered\.v0$/,
    ],
    [
      'a type named like a property of every object',
      v1Record(meterV1, 'constructor'),
      /^unknown event type constructor$/,
    ],
  ])('refuses %s with the reason', (_name, record, reason) => {
    const decoded = decodeEvent(record);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(reason);
  });

  it('leaves a current type and its data as they are', () => {
    const data = { deviceId: 'plug-1', powerW: 1 };
    expect(upcastToCurrent(EventType.readingReported, data)).toEqual({
      ok: true,
      type: EventType.readingReported,
      data,
    });
  });

  it('has every superseded type end at a current type of the same topic, without a cycle', () => {
    for (const [type, upcaster] of Object.entries(upcasters)) {
      expect(isEventType(type), type).toBe(false);
      let to: string = upcaster.to;
      for (let hops = 0; !isEventType(to) && hops < 16; hops++)
        to = upcasters[to as SupersededEventType].to;
      expect(isEventType(to), `${type} ends at ${to}`).toBe(true);
      if (isEventType(to)) expect(upcaster.topic).toBe(catalogue[to].topic);
    }
  });
});

/** Any valid v1 registration, with or without each optional field. */
const registrationV1 = fc.record(
  {
    deviceId: fc.constantFrom('meter-1', 'plug.2', 'ev:3'),
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
    ratedPowerW: fc.double({ min: 0.5, max: 1e9, noNaN: true }),
    counterWrapWh: fc.integer({ min: 1, max: 1e15 }),
    actor: fc.constantFrom('key:abc', 'operator:ann'),
  },
  { requiredKeys: ['deviceId', 'siteId', 'kind', 'role', 'name', 'timeZone'] },
) satisfies fc.Arbitrary<DeviceRegisteredV1>;

describe('device.registered v1 -> v2 (property)', () => {
  it('decodes a v1 record into the event its v2 record decodes into, which encodes as v2 and decodes again unchanged', () => {
    fc.assert(
      fc.property(registrationV1, (v1) => {
        // given the same registration written by a v1 producer and by a v2 producer
        const { ratedPowerW, counterWrapWh, ...rest } = v1;
        const nameplate = {
          ...(ratedPowerW === undefined ? {} : { ratedPowerW }),
          ...(counterWrapWh === undefined ? {} : { counterWrapWh }),
        };
        const v2 = DeviceRegisteredV2.parse({
          ...rest,
          ...(Object.keys(nameplate).length === 0 ? {} : { nameplate }),
        });
        const fromV1 = decodeEvent(v1Record(v1));
        const fromV2 = decodeEvent(v1Record(v2, EventType.deviceRegistered));
        // then both decode, into the same event
        expect(fromV1.ok).toBe(true);
        expect(fromV1).toEqual(fromV2);
        // and the upcast event, written again (a redrive through the upcaster), is v2 and stable
        if (!fromV1.ok) return;
        const again = encodeEvent(fromV1.event);
        expect(again.headers.ce_type).toBe(EventType.deviceRegistered);
        expect(decodeEvent(again)).toEqual(fromV1);
      }),
    );
  });

  it('is undone by moving nameplate back: nothing of v1 is lost', () => {
    fc.assert(
      fc.property(registrationV1, (v1) => {
        const upcast = upcastToCurrent(V1, v1);
        if (!upcast.ok) throw new Error(upcast.reason);
        const { nameplate, ...rest } = upcast.data as GridstreamEvent['data'] & {
          nameplate?: object;
        };
        expect({ ...rest, ...nameplate }).toEqual(v1);
      }),
    );
  });
});
