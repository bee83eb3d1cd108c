import { describe, expect, it } from 'vitest';
import { decode } from './decode.ts';
import { MAX_PAYLOAD_BYTES } from './json.ts';
import { payload, RECEIVED_AT, RECEIVED_AT_MS, route } from './test-fixtures.ts';

const topic = route('gridstream/acme/meter-1/readings', 'gridstream');
const decodeIt = (value: unknown) => decode(topic, payload(value), [], RECEIVED_AT_MS);

describe('gridstream payloads', () => {
  it('reads one reading, its device taken from the topic', () => {
    // given a single reading in the API's shape, without deviceId
    const decoded = decodeIt({
      time: '2026-12-05T10:00:00+01:00',
      importWh: 1500,
      powerW: 420,
      phases: { l1: { powerW: 140, voltageV: 230.1, currentA: 0.61 } },
      quality: 'estimated',
    });
    // then it is one reading of the topic's device, its fields as sent
    expect(decoded).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'meter-1',
          time: '2026-12-05T10:00:00+01:00',
          importWh: 1500,
          powerW: 420,
          phases: { l1: { powerW: 140, voltageV: 230.1, currentA: 0.61 } },
          quality: 'estimated',
        },
      ],
    });
  });

  it('reads a batch in its order, keeping each reading’s own id', () => {
    const id = '0196f1c8-6f3a-7c4e-9a1b-2f3e4d5c6b7a';
    const decoded = decodeIt({
      readings: [
        { time: '2026-12-05T10:00:10Z', importWh: 1501.2, id },
        { time: '2026-12-05T10:00:20Z', importWh: 1502.4, deviceId: 'meter-1' },
      ],
    });
    expect(decoded).toEqual({
      ok: true,
      readings: [
        { deviceId: 'meter-1', time: '2026-12-05T10:00:10Z', importWh: 1501.2, id },
        { deviceId: 'meter-1', time: '2026-12-05T10:00:20Z', importWh: 1502.4 },
      ],
    });
  });

  it('dates a reading without time when the bridge received it', () => {
    expect(decodeIt({ socPct: 55 })).toEqual({
      ok: true,
      readings: [{ deviceId: 'meter-1', time: RECEIVED_AT, socPct: 55 }],
    });
  });

  it('refuses a reading naming another device than the topic', () => {
    expect(decodeIt({ deviceId: 'meter-2', importWh: 1 })).toEqual({
      ok: false,
      reason: 'device-mismatch',
      message: 'deviceId: meter-2 is not meter-1, the device the topic names',
    });
    // in a batch, the message names the reading
    expect(
      decodeIt({ readings: [{ importWh: 1 }, { deviceId: 'meter-2', importWh: 2 }] }),
    ).toMatchObject({
      reason: 'device-mismatch',
      message: expect.stringMatching(/^readings\.1\./) as unknown,
    });
  });

  it('refuses what is not JSON, or not UTF-8', () => {
    expect(decodeIt('{"importWh": 12')).toMatchObject({ ok: false, reason: 'not-json' });
    expect(decode(topic, new Uint8Array([0x7b, 0xff, 0x7d]), [], RECEIVED_AT_MS)).toEqual({
      ok: false,
      reason: 'not-json',
      message: 'the payload is not UTF-8',
    });
    // a prototype key is refused as the API refuses it
    expect(decodeIt('{"__proto__": {"importWh": 1}, "powerW": 1}')).toMatchObject({
      reason: 'not-json',
    });
  });

  it('refuses a payload of the wrong shape, naming the field', () => {
    expect(decodeIt([{ importWh: 1 }])).toMatchObject({
      reason: 'invalid-payload',
      message: 'expected a reading or {"readings":[…]}, got an array',
    });
    expect(decodeIt({ importWh: '12' })).toMatchObject({
      reason: 'invalid-payload',
      message: expect.stringMatching(/^importWh: /) as unknown,
    });
    expect(decodeIt({ importwh: 12 })).toMatchObject({
      reason: 'invalid-payload',
      message: expect.stringMatching(/importwh/) as unknown,
    });
    expect(decodeIt({ readings: [{ importWh: 1 }, { phases: { l4: {} } }] })).toMatchObject({
      reason: 'invalid-payload',
      message: expect.stringMatching(/^readings\.1\.phases/) as unknown,
    });
    expect(decodeIt({ readings: [] })).toMatchObject({ reason: 'invalid-payload' });
    expect(decodeIt({ readings: [{ importWh: 1 }], importWh: 2 })).toMatchObject({
      reason: 'invalid-payload',
    });
    expect(decodeIt({ importWh: 1, quality: 'great' })).toMatchObject({
      reason: 'invalid-payload',
      message: expect.stringMatching(/^quality: /) as unknown,
    });
  });

  it('takes 1,000 readings in a message and refuses 1,001, as the API does', () => {
    const batch = (n: number) => ({
      readings: Array.from({ length: n }, (_, i) => ({ importWh: i })),
    });
    const ok = decodeIt(batch(1000));
    expect(ok.ok && ok.readings.length).toBe(1000);
    expect(decodeIt(batch(1001))).toMatchObject({ reason: 'invalid-payload' });
  });

  it('leaves bounds to the bridge’s check: a negative counter is passed on', () => {
    // the bridge refuses it as invalid-reading, with the API's message
    expect(decodeIt({ importWh: -5 })).toMatchObject({ ok: true, readings: [{ importWh: -5 }] });
  });

  it('refuses a payload larger than it decodes before reading it', () => {
    const big = new Uint8Array(MAX_PAYLOAD_BYTES + 1).fill(0x20);
    expect(decode(topic, big, [], RECEIVED_AT_MS)).toMatchObject({ reason: 'too-large' });
  });
});
