import { describe, expect, it } from 'vitest';
import { decode } from './decode.ts';
import type { ChannelMapping } from './types.ts';
import { payload, RECEIVED_AT, RECEIVED_AT_MS, route } from './test-fixtures.ts';

// Payloads in the shapes of Shelly's Gen2+ API documentation (field names and units as there):
// https://shelly-api-docs.shelly.cloud/gen2/General/Notifications (NotifyStatus, NotifyEvent)
// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch (switch status)
// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/PM1
// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EM (em status example)
// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EMData
// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EM1, /EM1Data
// https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt (status/<component:id>)

const ROOT = 'gridstream/acme/shelly/hall';
const rpc = route(`${ROOT}/events/rpc`, 'shelly');
const status = (component: string) => route(`${ROOT}/status/${component}`, 'shelly');
const hall: ChannelMapping[] = [
  { channel: 0, deviceId: 'hall-light' },
  { channel: 1, deviceId: 'hall-fan' },
];
const notify = (params: Record<string, unknown>, method = 'NotifyStatus') => ({
  src: 'shellypro4pm-f008d1d8b8b8',
  dst: `${ROOT}/events`,
  method,
  params,
});
/** 2026-12-05T10:00:00.250Z in Unix seconds, as Shelly writes `ts`. */
const TS = Date.UTC(2026, 11, 5, 10, 0, 0, 250) / 1000;

describe('Shelly NotifyStatus on <prefix>/events/rpc', () => {
  it('reads each switch channel at the notification’s time, in gridstream’s units', () => {
    // given a Pro 2PM's notification of both channels (W, V, A, Wh as Shelly reports them)
    const message = notify({
      ts: TS,
      'switch:0': {
        id: 0,
        apower: 61.5,
        voltage: 229.4,
        current: 0.27,
        aenergy: { total: 8123.456, by_minute: [1025.1, 1024.9, 1025.0], minute_ts: TS - 0.25 },
        temperature: { tC: 41.3, tF: 106.3 },
      },
      'switch:1': { id: 1, apower: 12, aenergy: { total: 99.5 }, ret_aenergy: { total: 3.25 } },
    });
    // when it is decoded with both channels mapped
    const decoded = decode(rpc, payload(message), hall, RECEIVED_AT_MS);
    // then each channel is its device's reading; energy stays in Wh (no scaling)
    expect(decoded).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'hall-light',
          time: '2026-12-05T10:00:00.250Z',
          powerW: 61.5,
          importWh: 8123.456,
          voltageV: 229.4,
          currentA: 0.27,
          temperatureC: 41.3,
        },
        {
          deviceId: 'hall-fan',
          time: '2026-12-05T10:00:00.250Z',
          powerW: 12,
          importWh: 99.5,
          exportWh: 3.25,
        },
      ],
    });
  });

  it('reads a partial notification for what it carries', () => {
    // only the power changed on channel 0; channel 1 reports its new energy total alone
    const decoded = decode(
      rpc,
      payload(
        notify({
          ts: TS,
          'switch:0': { id: 0, apower: 7.2 },
          'switch:1': { id: 1, aenergy: { total: 100.25 } },
        }),
      ),
      hall,
      RECEIVED_AT_MS,
    );
    expect(decoded).toEqual({
      ok: true,
      readings: [
        { deviceId: 'hall-light', time: '2026-12-05T10:00:00.250Z', powerW: 7.2 },
        { deviceId: 'hall-fan', time: '2026-12-05T10:00:00.250Z', importWh: 100.25 },
      ],
    });
  });

  it('yields nothing, and no error, for a notification without a measurement', () => {
    // the Notifications page's Example 1: a button switched output 0 on
    const output = {
      src: 'shellypro4pm-f008d1d8b8b8',
      dst: 'user_1',
      method: 'NotifyStatus',
      params: { ts: 1631186545.04, 'switch:0': { id: 0, output: true, source: 'button' } },
    };
    expect(decode(rpc, payload(output), hall, RECEIVED_AT_MS)).toEqual({ ok: true, readings: [] });
    // Example 2: the cloud connection was lost
    const cloud = notify({ ts: 1624348482.25, cloud: { connected: false } });
    expect(decode(rpc, payload(cloud), hall, RECEIVED_AT_MS)).toEqual({ ok: true, readings: [] });
    // a channel whose voltage alone changed: voltage is no reading by itself (the catalogue's rule)
    const voltage = notify({ ts: TS, 'switch:0': { id: 0, voltage: 231.2 }, 'switch:0x': {} });
    expect(decode(rpc, payload(voltage), hall, RECEIVED_AT_MS)).toEqual({ ok: true, readings: [] });
    // and an event (a button pushed) measures nothing either
    const event = notify(
      { ts: TS, events: [{ component: 'input:0', id: 0, event: 'single_push', ts: TS }] },
      'NotifyEvent',
    );
    expect(decode(rpc, payload(event), hall, RECEIVED_AT_MS)).toEqual({ ok: true, readings: [] });
  });

  it('leaves out values Shelly reports as null', () => {
    // a key that went away is notified as null; a temperature out of range is null
    const message = notify({
      ts: TS,
      'switch:0': { id: 0, apower: 3, current: null, temperature: { tC: null, tF: null } },
    });
    expect(decode(rpc, payload(message), hall, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [{ deviceId: 'hall-light', time: '2026-12-05T10:00:00.250Z', powerW: 3 }],
    });
  });

  it('dates a notification without ts when the bridge received it', () => {
    const message = notify({ 'switch:0': { id: 0, apower: 3 } });
    const decoded = decode(rpc, payload(message), hall, RECEIVED_AT_MS);
    expect(decoded.ok && decoded.readings[0]?.time).toBe(RECEIVED_AT);
  });

  it('reads a Pro 3EM’s em:0 and emdata:0 of a full status as one reading with three phases', () => {
    // the EM status example of the EM page, and EMData's counters (Wh)
    const message = notify(
      {
        ts: TS,
        'em:0': {
          id: 0,
          a_current: 4.029,
          a_voltage: 236.1,
          a_act_power: 951.2,
          a_aprt_power: 951.9,
          a_pf: 1,
          a_freq: 50,
          b_current: 4.027,
          b_voltage: 236.201,
          b_act_power: -951.1,
          b_aprt_power: 951.8,
          b_pf: 1,
          b_freq: 50,
          c_current: 3.03,
          c_voltage: 236.402,
          c_act_power: 715.4,
          c_aprt_power: 716.2,
          c_pf: 1,
          c_freq: 50,
          n_current: 11.029,
          total_current: 11.083,
          total_act_power: 2484.782,
          total_aprt_power: 2486.7,
          user_calibrated_phase: [],
          errors: ['phase_sequence'],
        },
        'emdata:0': {
          id: 0,
          a_total_act_energy: 5612.45,
          a_total_act_ret_energy: 0,
          b_total_act_energy: 2071.34,
          b_total_act_ret_energy: 310.5,
          c_total_act_energy: 1843.11,
          c_total_act_ret_energy: 0,
          total_act: 9526.9,
          total_act_ret: 310.5,
        },
        sys: { uptime: 12345 },
      },
      'NotifyFullStatus',
    );
    const decoded = decode(rpc, payload(message), [{ channel: 0, deviceId: 'grid-meter' }], 0);
    expect(decoded).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'grid-meter',
          time: '2026-12-05T10:00:00.250Z',
          powerW: 2484.782,
          phases: {
            l1: { powerW: 951.2, voltageV: 236.1, currentA: 4.029 },
            l2: { powerW: -951.1, voltageV: 236.201, currentA: 4.027 },
            l3: { powerW: 715.4, voltageV: 236.402, currentA: 3.03 },
          },
          importWh: 9526.9,
          exportWh: 310.5,
        },
      ],
    });
  });

  it('reads a Pro EM’s em1 and em1data channels, each its own device', () => {
    const message = notify({
      ts: TS,
      'em1:0': {
        id: 0,
        current: 2.598,
        voltage: 234.9,
        act_power: 501.8,
        aprt_power: 612.4,
        pf: 0.84,
        freq: 50,
      },
      'em1data:0': { id: 0, total_act_energy: 1520.3, total_act_ret_energy: 0 },
      'em1:1': {
        id: 1,
        current: 0.08,
        voltage: 234.9,
        act_power: 0,
        aprt_power: 18.7,
        pf: 0,
        freq: 50,
      },
      'switch:0': { id: 0, output: false, source: 'init' },
    });
    const mappings = [
      { channel: 0, deviceId: 'house' },
      { channel: 1, deviceId: 'heat-pump' },
    ];
    expect(decode(rpc, payload(message), mappings, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'house',
          time: '2026-12-05T10:00:00.250Z',
          powerW: 501.8,
          voltageV: 234.9,
          currentA: 2.598,
          importWh: 1520.3,
          exportWh: 0,
        },
        {
          deviceId: 'heat-pump',
          time: '2026-12-05T10:00:00.250Z',
          powerW: 0,
          voltageV: 234.9,
          currentA: 0.08,
        },
      ],
    });
  });
});

describe('Shelly component status on <prefix>/status/<component>', () => {
  it('reads a switch’s whole status at the receive time (the topic has no time stamp)', () => {
    const switchStatus = {
      id: 0,
      source: 'init',
      output: true,
      apower: 193.5,
      voltage: 242.7,
      freq: 50.0,
      current: 0.883,
      aenergy: {
        total: 52648.59,
        by_minute: [3403.476, 3190.759, 3190.759],
        minute_ts: 1773617820,
      },
      ret_aenergy: { total: 0.0, by_minute: [0, 0, 0], minute_ts: 1773617820 },
      temperature: { tC: 38.7, tF: 101.6 },
    };
    expect(decode(status('switch:0'), payload(switchStatus), hall, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'hall-light',
          time: RECEIVED_AT,
          powerW: 193.5,
          voltageV: 242.7,
          currentA: 0.883,
          importWh: 52648.59,
          exportWh: 0,
          temperatureC: 38.7,
        },
      ],
    });
  });

  it('reads a PM1 (Plug PM Gen3, PM Mini) and an EMData', () => {
    const pm1 = {
      id: 0,
      voltage: 221.8,
      current: 0.5,
      apower: 110.2,
      freq: 50.1,
      aenergy: { total: 176.0, by_minute: [0, 0, 0], minute_ts: 1708946700 },
      ret_aenergy: { total: 0.0, by_minute: [0, 0, 0], minute_ts: 1708946700 },
    };
    expect(decode(status('pm1:1'), payload(pm1), hall, RECEIVED_AT_MS)).toMatchObject({
      readings: [{ deviceId: 'hall-fan', powerW: 110.2, importWh: 176, exportWh: 0 }],
    });
    const emdata = { id: 0, total_act: 12345.67, total_act_ret: 6789.01 };
    expect(decode(status('emdata:0'), payload(emdata), hall, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [
        { deviceId: 'hall-light', time: RECEIVED_AT, importWh: 12345.67, exportWh: 6789.01 },
      ],
    });
  });

  it('yields nothing for a component that measures nothing', () => {
    for (const [component, body] of [
      ['sys', { mac: 'A8032AB12345', uptime: 12 }],
      ['input:0', { id: 0, state: false }],
      ['wifi', { sta_ip: '10.0.0.7', status: 'got ip', rssi: -61 }],
    ] as const)
      expect(decode(status(component), payload(body), hall, RECEIVED_AT_MS)).toEqual({
        ok: true,
        readings: [],
      });
  });

  it('yields nothing on the device’s other topics, whatever they carry', () => {
    const online = route(`${ROOT}/online`, 'shelly');
    expect(decode(online, payload('false'), hall, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [],
    });
    const command = route(`${ROOT}/command/switch:0`, 'shelly');
    expect(decode(command, payload('on'), hall, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [],
    });
  });
});

describe('Shelly messages that cannot become readings', () => {
  it('refuses measurements on no mapped channel, naming the channels', () => {
    const message = notify({ ts: TS, 'switch:2': { id: 2, apower: 3, aenergy: { total: 1 } } });
    expect(decode(rpc, payload(message), hall, RECEIVED_AT_MS)).toEqual({
      ok: false,
      reason: 'not-mapped',
      message: `no mapping names channel 2 of ${ROOT}`,
    });
    // a device nobody mapped
    expect(decode(rpc, payload(message), [], RECEIVED_AT_MS)).toMatchObject({
      reason: 'not-mapped',
    });
  });

  it('skips an unmapped channel when another is mapped', () => {
    const message = notify({
      ts: TS,
      'switch:0': { id: 0, apower: 3 },
      'switch:3': { id: 3, apower: 4 },
    });
    expect(decode(rpc, payload(message), hall, RECEIVED_AT_MS)).toEqual({
      ok: true,
      readings: [{ deviceId: 'hall-light', time: '2026-12-05T10:00:00.250Z', powerW: 3 }],
    });
  });

  it('refuses a metering component it does not read, rather than drop its energy unseen', () => {
    // a Plus 2PM in cover mode meters its motor in cover:0
    const message = notify({
      ts: TS,
      'cover:0': { id: 0, state: 'open', apower: 0, aenergy: { total: 4.2 } },
    });
    expect(decode(rpc, payload(message), hall, RECEIVED_AT_MS)).toMatchObject({
      ok: false,
      reason: 'unknown-component',
      message: expect.stringMatching(/^cover:0 measures power or energy/) as unknown,
    });
  });

  it('refuses what is not a Shelly notification', () => {
    const refused = (body: unknown) => decode(rpc, payload(body), hall, RECEIVED_AT_MS);
    expect(refused('{"method":"NotifyStatus",')).toMatchObject({ reason: 'not-json' });
    expect(refused(42)).toMatchObject({ reason: 'invalid-payload' });
    expect(refused({ params: { ts: TS } })).toMatchObject({
      reason: 'invalid-payload',
      message: 'method: expected NotifyStatus, NotifyFullStatus or NotifyEvent, got nothing',
    });
    expect(refused({ method: 'NotifyStatus', params: [] })).toMatchObject({
      reason: 'invalid-payload',
      message: 'params: expected an object, got an array',
    });
    expect(refused(notify({ ts: '1733400000' }))).toMatchObject({
      reason: 'invalid-payload',
      message: 'params.ts: expected Unix seconds, got a string',
    });
    expect(refused(notify({ ts: 1e300, 'switch:0': { apower: 1 } }))).toMatchObject({
      reason: 'invalid-payload',
    });
    expect(refused(notify({ ts: TS, 'switch:0': { apower: '12 W' } }))).toEqual({
      ok: false,
      reason: 'invalid-payload',
      message: 'params.switch:0.apower: expected a finite number, got a string',
    });
    expect(refused(notify({ ts: TS, 'switch:0': { aenergy: 5 } }))).toMatchObject({
      message: 'params.switch:0.aenergy: expected an object, got a number',
    });
    // 1e400 is JSON, but no finite number
    expect(
      decode(
        rpc,
        payload(`{"method":"NotifyStatus","params":{"em1:0":{"act_power":1e400}}}`),
        hall,
        0,
      ),
    ).toMatchObject({
      reason: 'invalid-payload',
      message: 'params.em1:0.act_power: expected a finite number, got a number',
    });
    expect(decode(status('switch:0'), payload([1, 2]), hall, RECEIVED_AT_MS)).toMatchObject({
      reason: 'invalid-payload',
    });
  });
});
