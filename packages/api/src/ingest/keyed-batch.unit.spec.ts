import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { batchFingerprint, decideKeyStep, keyedReadingId } from './keyed-batch.ts';
import type { KeyRecordState } from './keyed-batch.ts';
import { readReadingBatch } from './reading-batch.ts';
import type { BatchReading } from './reading-batch.ts';

const received = {
  nowMs: Date.parse('2026-12-04T12:00:00Z'),
  bounds: { earliestMs: 0, maxAheadMs: 300_000 },
};
const readingsOf = (text: string): readonly BatchReading[] => {
  const read = readReadingBatch(new TextEncoder().encode(text), received);
  if (!read.ok) throw new Error(`not a batch: ${JSON.stringify(read)}`);
  return read.readings;
};

describe('batchFingerprint (what an Idempotency-Key of POST /v1/readings stands for)', () => {
  it('is the same for the same readings spelled differently', () => {
    // given one batch as compact JSON, and again with whitespace, other key order, 5.0 for 5
    // and the same instant in another offset
    const compact =
      '{"readings":[{"deviceId":"meter-1","time":"2026-12-04T11:00:00Z","powerW":5,"importWh":12}]}';
    const spelledOtherwise = `{ "readings" : [ {
      "importWh": 1.2e1, "powerW": 5.0,
      "time": "2026-12-04T12:00:00+01:00", "deviceId": "meter-1" } ] }`;
    // then their fingerprints are one
    expect(batchFingerprint(readingsOf(spelledOtherwise))).toBe(
      batchFingerprint(readingsOf(compact)),
    );
  });

  it('differs when a value, the order of the readings or a client id differs', () => {
    const reading = (deviceId: string, powerW: number, id?: string) => ({
      deviceId,
      time: '2026-12-04T11:00:00Z',
      powerW,
      ...(id === undefined ? {} : { id }),
    });
    const of = (readings: unknown[]) => batchFingerprint(readingsOf(JSON.stringify({ readings })));
    const base = of([reading('a', 1), reading('b', 2)]);
    expect(of([reading('a', 1), reading('b', 3)])).not.toBe(base);
    expect(of([reading('b', 2), reading('a', 1)])).not.toBe(base);
    expect(of([reading('a', 1, '0193a000-0000-7000-8000-000000000001'), reading('b', 2)])).not.toBe(
      base,
    );
  });
});

describe('keyedReadingId', () => {
  it('names the same reading of the same keyed batch the same, and any other one otherwise', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.string(), fc.string({ minLength: 1 }), fc.uuid(), fc.nat(999)),
        fc.tuple(fc.string(), fc.string({ minLength: 1 }), fc.uuid(), fc.nat(999)),
        (a, b) => {
          const [tenantA, keyA, fingerprintA, indexA] = a;
          const [tenantB, keyB, fingerprintB, indexB] = b;
          const idA = keyedReadingId(tenantA, keyA, fingerprintA, indexA);
          // a UUID, the same every time it is derived
          expect(idA).toMatch(
            /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
          );
          expect(keyedReadingId(tenantA, keyA, fingerprintA, indexA)).toBe(idA);
          const same =
            tenantA === tenantB &&
            keyA === keyB &&
            fingerprintA === fingerprintB &&
            indexA === indexB;
          expect(keyedReadingId(tenantB, keyB, fingerprintB, indexB) === idA).toBe(same);
        },
      ),
    );
  });

  it("is another tenant's own for the same key", () => {
    const fingerprint = '6f1c2a55-0a7e-5d2b-9d8e-1e2f3a4b5c6d';
    expect(keyedReadingId('acme', 'k-1', fingerprint, 0)).not.toBe(
      keyedReadingId('globex', 'k-1', fingerprint, 0),
    );
  });
});

describe('decideKeyStep (a key that has a record)', () => {
  const nowMs = Date.parse('2026-12-04T12:00:00Z');
  const record = (overrides: Partial<KeyRecordState> = {}): KeyRecordState => ({
    fingerprint: 'f',
    published: true,
    expiresAtMs: nowMs + 3600_000,
    ...overrides,
  });

  it('replays a published batch sent again, and refuses another batch under its key', () => {
    expect(decideKeyStep(record(), 'f', nowMs)).toBe('replay');
    expect(decideKeyStep(record(), 'g', nowMs)).toBe('reused');
    // another batch is refused even while the first is publishing: it may be on Kafka already
    expect(
      decideKeyStep(record({ published: false, publishingUntilMs: nowMs + 1 }), 'g', nowMs),
    ).toBe('reused');
  });

  it('answers in-progress while the claim holds, and lets a retry take it over once it ran out', () => {
    const claimed = (untilMs: number) => record({ published: false, publishingUntilMs: untilMs });
    expect(decideKeyStep(claimed(nowMs + 1), 'f', nowMs)).toBe('in-progress');
    expect(decideKeyStep(claimed(nowMs), 'f', nowMs)).toBe('take-over');
    // released at once after a failed publish
    expect(decideKeyStep(claimed(0), 'f', nowMs)).toBe('take-over');
  });

  it('counts an expired record as none, whatever it holds', () => {
    expect(decideKeyStep(record({ expiresAtMs: nowMs }), 'g', nowMs)).toBe('expired');
    expect(decideKeyStep(record({ expiresAtMs: nowMs - 1 }), 'f', nowMs)).toBe('expired');
  });
});
