import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode } from './decode.ts';
import { kWhToWh } from './tasmota.ts';
import type { ChannelMapping } from './types.ts';
import { payload, RECEIVED_AT, RECEIVED_AT_MS, route } from './test-fixtures.ts';

// Payloads as Tasmota writes them. The SENSOR message and its units (Total kWh, Power W,
// Voltage V, Current A) are the Sonoff POW R2 page's: https://tasmota.github.io/docs/devices/Sonoff-Pow-R2/
// Time formats: https://tasmota.github.io/docs/Commands/#time and #setoption52; arrays per
// channel and the summed Total: https://tasmota.github.io/docs/Commands/#setoption129

const ROOT = 'gridstream/acme/tasmota/pow1';
const sensor = route(`${ROOT}/tele/SENSOR`, 'tasmota');
const kettle: ChannelMapping[] = [{ channel: 0, deviceId: 'kettle' }];
const inParis: ChannelMapping[] = [{ channel: 0, deviceId: 'kettle', timeZone: 'Europe/Paris' }];

/** The POW R2 page's telemetry, its Time replaced. */
const powR2 = (time: unknown) => ({
  ...(time === undefined ? {} : { Time: time }),
  ENERGY: {
    TotalStartTime: '2018-11-14T18:39:40',
    Total: 6.294,
    Yesterday: 5.34,
    Today: 0.954,
    Period: 217,
    Power: 2635,
    ApparentPower: 2650,
    ReactivePower: 282,
    Factor: 0.99,
    Voltage: 227,
    Current: 11.661,
  },
});

describe('Tasmota tele/SENSOR', () => {
  it('reads ENERGY in gridstream’s units: Total kWh as Wh, Power W, Voltage V, Current A', () => {
    const decoded = decode(
      sensor,
      payload(powR2('2026-12-05T11:30:00+01:00')),
      kettle,
      RECEIVED_AT_MS,
    );
    expect(decoded).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'kettle',
          time: '2026-12-05T10:30:00.000Z',
          powerW: 2635,
          voltageV: 227,
          currentA: 11.661,
          importWh: 6294,
        },
      ],
    });
  });

  it('reads a device of two channels from its arrays, the summed Total left out', () => {
    // a Shelly 2.5 on Tasmota: Power and Current per channel, one common Voltage, Total summed
    const message = {
      Time: '2026-12-05T11:30:00+01:00',
      ENERGY: {
        TotalStartTime: '2026-01-01T00:00:00',
        Total: 20.5,
        Yesterday: 0.4,
        Today: 0.1,
        Period: [1, 2],
        Power: [10, 20],
        ApparentPower: [12, 22],
        ReactivePower: [6, 9],
        Factor: [0.83, 0.9],
        Voltage: 230,
        Current: [0.052, 0.096],
      },
    };
    const mappings = [
      { channel: 0, deviceId: 'lamp' },
      { channel: 1, deviceId: 'fan' },
    ];
    expect(decode(sensor, payload(message), mappings, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'lamp',
          time: '2026-12-05T10:30:00.000Z',
          powerW: 10,
          voltageV: 230,
          currentA: 0.052,
        },
        {
          deviceId: 'fan',
          time: '2026-12-05T10:30:00.000Z',
          powerW: 20,
          voltageV: 230,
          currentA: 0.096,
        },
      ],
    });
  });

  it('reads each channel’s counter when SetOption129 splits Total, and export where metered', () => {
    const message = {
      Time: '2026-12-05T11:30:00+01:00',
      ENERGY: {
        Total: [1.013, 0.5],
        ExportActive: [1.2, 0],
        Power: [-450, 3],
        Voltage: [231, 229],
        Current: [1.95, 0.02],
      },
    };
    const mappings = [
      { channel: 0, deviceId: 'pv' },
      { channel: 1, deviceId: 'fridge' },
    ];
    expect(decode(sensor, payload(message), mappings, RECEIVED_AT_MS)).toMatchObject({
      ok: true,
      readings: [
        { deviceId: 'pv', importWh: 1013, exportWh: 1200, powerW: -450, voltageV: 231 },
        { deviceId: 'fridge', importWh: 500, exportWh: 0, powerW: 3, voltageV: 229 },
      ],
    });
  });

  it('skips an unmapped channel, and refuses a device none of whose channels is mapped', () => {
    const message = { Time: '2026-12-05T11:30:00Z', ENERGY: { Power: [10, 20] } };
    expect(decode(sensor, payload(message), [{ channel: 1, deviceId: 'fan' }], 0)).toEqual({
      ok: true,
      readings: [{ deviceId: 'fan', time: '2026-12-05T11:30:00.000Z', powerW: 20 }],
    });
    expect(decode(sensor, payload(message), [], 0)).toEqual({
      ok: false,
      reason: 'not-mapped',
      message: `no mapping names channel 0, 1 of ${ROOT}`,
    });
  });

  it('yields nothing for a SENSOR message without energy', () => {
    const ds18b20 = {
      Time: '2026-12-05T11:30:00',
      DS18B20: { Id: '01131B5B8AAA', Temperature: 20.6 },
      TempUnit: 'C',
    };
    expect(decode(sensor, payload(ds18b20), kettle, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [],
    });
    // nor for energy whose measuring values are all absent or null
    const empty = { Time: '2026-12-05T11:30:00', ENERGY: { Power: null, Voltage: 230 } };
    expect(decode(sensor, payload(empty), [], RECEIVED_AT_MS)).toEqual({ ok: true, readings: [] });
  });

  it('leaves every other message unread: STATE, the plain-text LWT, stat and cmnd topics', () => {
    const others: [string, string][] = [
      [
        `${ROOT}/tele/STATE`,
        JSON.stringify({ Time: '2026-12-05T11:30:00', Uptime: '0T01:02:03', POWER: 'ON' }),
      ],
      [`${ROOT}/tele/LWT`, 'Online'],
      [`${ROOT}/tele/LWT`, 'Offline'],
      [`${ROOT}/stat/POWER`, 'ON'],
      [`${ROOT}/stat/RESULT`, JSON.stringify({ POWER: 'OFF' })],
      [`${ROOT}/stat/STATUS10`, JSON.stringify({ StatusSNS: powR2('2026-12-05T11:30:00') })],
      [`${ROOT}/cmnd/POWER`, 'TOGGLE'],
    ];
    for (const [topic, body] of others)
      expect(decode(route(topic, 'tasmota'), payload(body), kettle, RECEIVED_AT_MS), topic).toEqual(
        {
          ok: true,
          readings: [],
        },
      );
  });

  it('refuses a SENSOR message it cannot read', () => {
    const refused = (body: unknown) => decode(sensor, payload(body), kettle, RECEIVED_AT_MS);
    expect(refused('{"Time":')).toMatchObject({ reason: 'not-json' });
    expect(refused('Online')).toMatchObject({ reason: 'not-json' });
    expect(refused([1])).toMatchObject({ reason: 'invalid-payload' });
    expect(refused({ ENERGY: 5 })).toEqual({
      ok: false,
      reason: 'invalid-payload',
      message: 'ENERGY: expected an object, got a number',
    });
    expect(refused({ ENERGY: { Power: '45 W' } })).toMatchObject({
      message: 'ENERGY.Power: expected a finite number, got a string',
    });
    expect(refused({ ENERGY: { Power: [1, 'x'] } })).toMatchObject({ reason: 'invalid-payload' });
    expect(refused({ Time: 'yesterday', ENERGY: { Power: 1 } })).toEqual({
      ok: false,
      reason: 'invalid-payload',
      message: 'Time: yesterday is not an ISO 8601 date-time',
    });
    expect(refused({ Time: '2026-02-30T10:00:00', ENERGY: { Power: 1 } })).toMatchObject({
      reason: 'invalid-payload',
    });
    // 1e306 kWh is a finite number, but 1e309 Wh is not
    expect(refused({ ENERGY: { Total: 1e306 } })).toMatchObject({ reason: 'invalid-payload' });
  });
});

describe('Tasmota times', () => {
  const timeOf = (time: unknown, mappings = kettle, extra: object = {}) => {
    const decoded = decode(sensor, payload({ ...powR2(time), ...extra }), mappings, RECEIVED_AT_MS);
    return decoded.ok ? decoded.readings[0]?.time : decoded;
  };

  it('takes a Time with an offset (SetOption52) as it is', () => {
    expect(timeOf('2026-12-05T11:30:00+01:00')).toBe('2026-12-05T10:30:00.000Z');
    expect(timeOf('2026-07-05T11:30:00.123+02:00')).toBe('2026-07-05T09:30:00.123Z');
    expect(timeOf('2026-12-05T10:30:00Z', inParis)).toBe('2026-12-05T10:30:00.000Z');
  });

  it('reads a Time without offset in the mapping’s zone, summer and winter', () => {
    // Paris is UTC+1 in December and UTC+2 in July
    expect(timeOf('2026-12-05T11:30:00', inParis)).toBe('2026-12-05T10:30:00.000Z');
    expect(timeOf('2026-07-05T11:30:00', inParis)).toBe('2026-07-05T09:30:00.000Z');
    // either side of the spring-forward (2026-03-29, 02:00 → 03:00)
    expect(timeOf('2026-03-29T01:59:59', inParis)).toBe('2026-03-29T00:59:59.000Z');
    expect(timeOf('2026-03-29T03:00:00', inParis)).toBe('2026-03-29T01:00:00.000Z');
  });

  it('reads the times a DST change makes ambiguous or skips as Temporal’s compatible choice does', () => {
    // 02:30 on 2026-10-25 happens twice in Paris: the first, still at +02:00
    expect(timeOf('2026-10-25T02:30:00', inParis)).toBe('2026-10-25T00:30:00.000Z');
    // 02:30 on 2026-03-29 never happens: moved on by the hour skipped, 03:30 at +02:00
    expect(timeOf('2026-03-29T02:30:00', inParis)).toBe('2026-03-29T01:30:00.000Z');
  });

  it('uses the receive time for a local Time with no zone mapped, and for no Time at all', () => {
    expect(timeOf('2026-12-05T11:30:00')).toBe(RECEIVED_AT);
    expect(timeOf(undefined, inParis)).toBe(RECEIVED_AT);
  });

  it('prefers Epoch (Time 2) and reads a numeric Time (Time 3) as Unix seconds', () => {
    const epoch = Date.UTC(2026, 11, 5, 10, 30) / 1000;
    expect(timeOf('2026-12-05T11:30:00', kettle, { Epoch: epoch })).toBe(
      '2026-12-05T10:30:00.000Z',
    );
    expect(timeOf(epoch)).toBe('2026-12-05T10:30:00.000Z');
  });

  it('refuses a mapping whose zone the runtime does not know', () => {
    const mars = [{ channel: 0, deviceId: 'kettle', timeZone: 'Mars/Olympus_Mons' }];
    expect(timeOf('2026-12-05T11:30:00', mars)).toMatchObject({
      ok: false,
      reason: 'invalid-mapping',
    });
  });
});

describe('kWhToWh', () => {
  it('is within a millionth of a Wh of Total × 1000 for any total a meter can show', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 9e6, noNaN: true }), (totalKWh) => {
        const wh = kWhToWh(totalKWh);
        expect(Math.abs(wh - totalKWh * 1000)).toBeLessThanOrEqual(1e-6);
        expect(wh).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('gives the decimal Wh of every value Tasmota writes on a 6-digit kWh register', () => {
    // Total = k / 10^5 kWh (Tasmota writes at most 5 decimals) is k / 100 Wh: exactly its double
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e11 - 1 }), (k) => {
        const totalKWh = Number((k / 1e5).toFixed(5));
        expect(kWhToWh(totalKWh)).toBe(Number((k / 100).toFixed(2)));
      }),
    );
    expect(1.005 * 1000).toBe(1004.9999999999999); // what rounding is for
    expect(kWhToWh(1.005)).toBe(1005);
    expect(kWhToWh(1.013)).toBe(1013);
  });

  it('is finite for every finite kWh up to what a double holds ×1000, and never NaN', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e300, max: 1e300, noNaN: true }), (kWh) => {
        expect(Number.isFinite(kWhToWh(kWh))).toBe(true);
      }),
    );
  });
});
