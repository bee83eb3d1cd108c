import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode } from './decode.ts';
import type { CandidateReading, ChannelMapping } from './types.ts';
import { payload, RECEIVED_AT_MS, route } from './test-fixtures.ts';

const ROUTES = [
  route('gridstream/acme/meter-1/readings', 'gridstream'),
  route('gridstream/acme/shelly/hall/events/rpc', 'shelly'),
  route('gridstream/acme/shelly/hall/status/switch:0', 'shelly'),
  route('gridstream/acme/shelly/hall/status/em:0', 'shelly'),
  route('gridstream/acme/tasmota/plug7/tele/SENSOR', 'tasmota'),
];
const MAPPINGS: ChannelMapping[] = [0, 1, 2, 3].map((channel) => ({
  channel,
  deviceId: `d-${channel}`,
  timeZone: 'Europe/Paris',
}));

/** Every number a reading carries. */
function numbersOf(reading: CandidateReading): number[] {
  const { phases, ...rest } = reading;
  const phaseNumbers = Object.values(phases ?? {}).flatMap((p) => Object.values(p ?? {}));
  return [...Object.values(rest), ...phaseNumbers].filter((v) => typeof v === 'number');
}

// Values shaped like the formats' payloads, with anything at any place: a decoder meets them all.
const anything = fc.oneof(
  fc.jsonValue(),
  fc.double(),
  fc.constantFrom(null, 1e308, -0, 'nan', [], {}, [null, 1]),
);
const energy = fc.dictionary(
  fc.constantFrom('Power', 'Voltage', 'Current', 'Total', 'ExportActive', 'Today'),
  anything,
);
const component = fc.dictionary(
  fc.constantFrom(
    'apower',
    'voltage',
    'current',
    'aenergy',
    'ret_aenergy',
    'act_power',
    'a_act_power',
    'total_act',
    'total_act_power',
  ),
  fc.oneof(anything, fc.record({ total: anything })),
);
const shaped = fc.oneof(
  fc.record({ Time: anything, Epoch: anything, ENERGY: energy }, { requiredKeys: ['ENERGY'] }),
  fc.record({
    method: fc.constantFrom('NotifyStatus', 'NotifyFullStatus', 'NotifyEvent', 'Other'),
    params: fc.dictionary(
      fc.constantFrom('ts', 'switch:0', 'em:0', 'em1:1', 'cover:0', 'sys'),
      fc.oneof(anything, component),
    ),
  }),
  component,
  fc.record({
    readings: fc.array(
      fc.dictionary(fc.constantFrom('importWh', 'time', 'deviceId', 'phases'), anything),
    ),
  }),
  anything,
);

describe('decode', () => {
  it('never throws, and every reading it gives has a device, a time and finite numbers only', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ROUTES),
        fc.oneof(
          shaped.map((value) => payload(JSON.stringify(value))),
          fc.uint8Array(),
          // JSON.stringify writes no overflow; a device can (1e400 parses as Infinity)
          fc
            .constantFrom(
              '{"importWh":1e400}',
              '{"readings":[{"powerW":-1e400}]}',
              '{"Time":1e400,"ENERGY":{"Total":[1e400,1],"Power":[1,2]}}',
              '{"method":"NotifyStatus","params":{"ts":1e400,"switch:0":{"apower":1}}}',
              '{"method":"NotifyStatus","params":{"switch:1":{"aenergy":{"total":1e400}}}}',
              '{"a_act_power":1e400,"total_act_power":5}',
            )
            .map(payload),
        ),
        fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
        (topic, bytes, receivedAtMs) => {
          const decoded = decode(topic, bytes, MAPPINGS, receivedAtMs);
          if (!decoded.ok) {
            expect(decoded.message.length).toBeGreaterThan(0);
            return;
          }
          for (const reading of decoded.readings) {
            expect(reading.deviceId.length).toBeGreaterThan(0);
            expect(typeof reading.time).toBe('string');
            for (const n of numbersOf(reading)) expect(Number.isFinite(n)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes a payload the same way every time (a redelivered message makes the same readings)', () => {
    const message = payload({
      method: 'NotifyStatus',
      params: { ts: 1796464800, 'switch:1': { apower: 2 }, 'switch:0': { apower: 1 } },
    });
    const rpc = route('gridstream/acme/shelly/hall/events/rpc', 'shelly');
    const first = decode(rpc, message, MAPPINGS, RECEIVED_AT_MS);
    expect(decode(rpc, message, MAPPINGS, RECEIVED_AT_MS + 5_000)).toEqual(first);
    // in channel order, whatever the payload's key order
    expect(first.ok && first.readings.map((r) => r.deviceId)).toEqual(['d-0', 'd-1']);
  });
});
