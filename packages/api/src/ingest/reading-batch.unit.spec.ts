import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_TIME_PLAUSIBILITY, EventType } from '@gridstream/events';
import { parseReadingBatch } from './reading-batch.ts';

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const counter = () => {
  let n = 0;
  return () => `generated-${++n}`;
};

describe('parseReadingBatch (the body of POST /v1/readings)', () => {
  it('refuses implausible times and values, naming each field', () => {
    // given a batch with a reading of 9999, one of 1900, one with an absurd counter, one good
    const received = {
      nowMs: Date.parse('2026-12-04T12:00:00Z'),
      bounds: DEFAULT_TIME_PLAUSIBILITY,
    };
    const body = bytes({
      readings: [
        { deviceId: 'meter-1', time: '9999-12-31T00:00:00Z', powerW: 5 },
        { deviceId: 'meter-1', time: '1900-01-01T00:00:00Z', powerW: 5 },
        { deviceId: 'meter-1', time: '2026-12-04T11:59:00Z', powerW: 5 },
      ],
    });
    // when it is parsed
    const parsed = parseReadingBatch(body, 'acme', counter(), received);
    // then nothing of it is taken, and each bad time is named
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.issues.map((issue) => issue.path)).toEqual([
      'readings.0.time',
      'readings.1.time',
    ]);
    const absurd = parseReadingBatch(
      bytes({ readings: [{ deviceId: 'meter-1', time: '2026-12-04T11:59:00Z', importWh: 1e308 }] }),
      'acme',
      counter(),
      received,
    );
    expect(!absurd.ok && absurd.issues.map((issue) => issue.path)).toEqual(['readings.0.importWh']);
  });

  it("makes one reading event per reading, of the key's tenant, with the time in UTC", () => {
    const id = '0190b6a4-51c2-7f00-8000-000000000001';
    const parsed = parseReadingBatch(
      bytes({
        readings: [
          { deviceId: 'meter-1', time: '2026-03-29T02:30:00+02:00', powerW: 5 },
          { deviceId: 'meter-2', time: '2026-03-29T00:15:00Z', importWh: 7, id },
        ],
      }),
      'acme',
      counter(),
    );
    expect(parsed).toEqual({
      ok: true,
      events: [
        {
          id: 'generated-1',
          type: EventType.readingReported,
          source: '/v1/readings',
          subject: 'meter-1',
          time: '2026-03-29T00:30:00.000Z',
          tenant: 'acme',
          data: { deviceId: 'meter-1', powerW: 5, quality: 'good' },
        },
        {
          id,
          type: EventType.readingReported,
          source: '/v1/readings',
          subject: 'meter-2',
          time: '2026-03-29T00:15:00.000Z',
          tenant: 'acme',
          data: { deviceId: 'meter-2', importWh: 7, quality: 'good' },
        },
      ],
    });
  });

  it('gives each reading its own time, however the times of a batch repeat', () => {
    const times = fc.constantFrom(
      '2026-11-20T10:00:00Z',
      '2026-11-20T11:00:00+01:00',
      '2026-11-20T10:00:00.5Z',
      '2026-11-21T00:00:00-05:00',
    );
    fc.assert(
      fc.property(fc.array(times, { minLength: 1, maxLength: 30 }), (sequence) => {
        const parsed = parseReadingBatch(
          bytes({ readings: sequence.map((time) => ({ deviceId: 'm', time, powerW: 1 })) }),
          't',
          counter(),
        );
        if (!parsed.ok) throw new Error(JSON.stringify(parsed));
        expect(parsed.events.map((e) => e.time)).toEqual(
          sequence.map((time) => new Date(time).toISOString()),
        );
      }),
    );
  });

  it('names every invalid field by its dotted path, and makes no event', () => {
    const parsed = parseReadingBatch(
      bytes({
        readings: [
          { deviceId: 'meter-1', time: '2026-11-20T10:00:00Z', powerW: 1 },
          { deviceId: 'meter-1', time: 'yesterday', powerW: 1 },
          { deviceId: 'meter-1', time: '2026-11-20T10:00:00Z' },
        ],
        extra: true,
      }),
      'acme',
      counter(),
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.path).sort()).toEqual(['', 'readings.1.time', 'readings.2']);
    expect(parsed.issues.every((i) => i.message.length > 0)).toBe(true);
  });

  it('refuses an empty body, a body that is not JSON, and __proto__ or constructor keys', () => {
    const refusal = (body: string) => {
      const parsed = parseReadingBatch(bytes(body), 'acme', counter());
      return parsed.ok ? 'accepted' : parsed.message;
    };
    expect(refusal('')).toBe("Body cannot be empty when content-type is set to 'application/json'");
    const notJson = "Body is not valid JSON but content-type is set to 'application/json'";
    expect(refusal('{"readings": [')).toBe(notJson);
    expect(refusal('{"readings": [], "__proto__": {"polluted": true}}')).toBe(notJson);
    expect(refusal('{"readings": [], "constructor": {"prototype": {"polluted": true}}}')).toBe(
      notJson,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads the bytes it is given, also from a view into a larger buffer', () => {
    const body = bytes({
      readings: [{ deviceId: 'meter-9', time: '2026-11-20T10:00:00Z', powerW: 2 }],
    });
    const larger = new Uint8Array(body.length + 20).fill(0x7b); // '{' around it: not JSON alone
    larger.set(body, 10);
    const parsed = parseReadingBatch(larger.subarray(10, 10 + body.length), 'acme', counter());
    expect(parsed.ok && parsed.events[0]?.subject).toBe('meter-9');
  });
});
