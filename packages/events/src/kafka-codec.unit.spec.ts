import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  catalogue,
  catalogueJsonSchema,
  CloudEventsAttributes,
  decodeEvent,
  encodeEvent,
  EventType,
  isTimestamp,
  SupersededEventType,
  timestampMs,
  Timestamp,
  validAttributes,
} from './index.ts';
import type { GridstreamEvent, RawRecord } from './index.ts';

const reading: GridstreamEvent = {
  id: '019a0000-0000-7000-8000-000000000001',
  type: EventType.readingReported,
  source: 'gateway/berlin-1',
  subject: 'plug-1',
  time: '2026-03-29T00:30:00.000Z',
  tenant: 'acme',
  data: { deviceId: 'plug-1', powerW: 120.5, importWh: 1000, quality: 'good' },
};

const registered: GridstreamEvent = {
  id: '019a0000-0000-7000-8000-000000000002',
  type: EventType.deviceRegistered,
  source: 'api',
  subject: 'meter-1',
  time: '2026-03-29T00:00:00+01:00',
  tenant: 'acme',
  data: {
    deviceId: 'meter-1',
    siteId: 'site-1',
    kind: 'meter',
    role: 'grid',
    name: 'Main meter',
    timeZone: 'Europe/Berlin',
  },
};

function toRaw(record: ReturnType<typeof encodeEvent>): RawRecord {
  const bytes = (s: string) => new TextEncoder().encode(s);
  return {
    key: bytes(record.key),
    value: bytes(record.value),
    headers: Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, bytes(v)])),
  };
}

function withHeader(name: string, value: string | undefined): RawRecord {
  const encoded = encodeEvent(reading);
  const headers = Object.fromEntries(
    Object.entries({ ...encoded.headers, [name]: value }).filter(([, v]) => v !== undefined),
  );
  return { key: encoded.key, value: encoded.value, headers };
}

describe('Kafka binary-mode codec', () => {
  it.each([reading, registered])('round-trips $type through bytes unchanged', (event) => {
    // given an event encoded as a Kafka record and carried as bytes
    const raw = toRaw(encodeEvent(event));
    // when it is decoded
    const decoded = decodeEvent(raw);
    // then the same event comes back, routed to its topic
    expect(decoded).toEqual({ ok: true, event, topic: catalogue[event.type].topic });
  });

  it('puts the CloudEvents attributes in ce_* headers and keys by device', () => {
    const record = encodeEvent(reading);
    expect(record.key).toBe('plug-1');
    expect(record.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: reading.id,
      ce_type: 'gridstream.reading.reported.v1',
      ce_tenant: 'acme',
      'content-type': 'application/json',
    });
    expect(JSON.parse(record.value)).toEqual(reading.data);
  });

  it('fills the default quality of a reading', () => {
    const raw = {
      ...encodeEvent(reading),
      value: JSON.stringify({ deviceId: 'plug-1', powerW: 5 }),
    };
    const decoded = decodeEvent(raw);
    expect(decoded.ok && decoded.event.data).toEqual({
      deviceId: 'plug-1',
      powerW: 5,
      quality: 'good',
    });
  });

  it.each([
    ['a missing type', withHeader('ce_type', undefined), /ce_type/],
    [
      'an unknown type',
      withHeader('ce_type', 'gridstream.reading.exploded.v9'),
      /unknown event type gridstream.reading.exploded.v9/,
    ],
    ['a wrong spec version', withHeader('ce_specversion', '0.3'), /ce_specversion/],
    ['a time without offset', withHeader('ce_time', '2026-03-29 10:00'), /ce_time/],
    [
      'a key that is not the subject',
      { ...withHeader('ce_subject', 'plug-1'), key: 'plug-2' },
      /key "plug-2" is not the subject/,
    ],
    [
      'a value that is not JSON',
      { ...withHeader('ce_id', reading.id), value: '{"deviceId":' },
      /not JSON/,
    ],
    ['no value', { ...withHeader('ce_id', reading.id), value: null }, /no value/],
    [
      'a negative counter',
      { ...withHeader('ce_id', reading.id), value: '{"deviceId":"plug-1","importWh":-1}' },
      /importWh/,
    ],
    [
      'an empty reading',
      { ...withHeader('ce_id', reading.id), value: '{"deviceId":"plug-1"}' },
      /at least one of/,
    ],
    [
      'an unknown field',
      { ...withHeader('ce_id', reading.id), value: '{"deviceId":"plug-1","powerW":1,"powr":2}' },
      /powr/,
    ],
    [
      'data for another device',
      { ...withHeader('ce_id', reading.id), value: '{"deviceId":"plug-9","powerW":1}' },
      /plug-9 is not the subject/,
    ],
    [
      'invalid UTF-8',
      { ...toRaw(encodeEvent(reading)), value: new Uint8Array([0xff, 0xfe]) },
      /UTF-8/,
    ],
  ])('rejects %s with a reason', (_name, raw, reason) => {
    const decoded = decodeEvent(raw);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(reason);
  });

  it('rejects an implausible time or value, saying which, and takes a time just within the lead', () => {
    // given readings dated before 2000, far ahead of the broker's append time, or with a value
    // no device can measure
    const appendedAt = Date.parse('2026-12-04T12:00:00Z');
    const at = (time: string, value = '{"deviceId":"plug-1","powerW":1}') => ({
      ...withHeader('ce_time', time),
      value,
      timestamp: String(appendedAt),
    });
    const reasons = [
      at('1970-01-01T00:00:00Z'),
      at('9999-12-31T00:00:00Z'),
      at('2026-12-04T12:05:00.001Z'),
      at('2026-12-04T12:00:00Z', '{"deviceId":"plug-1","importWh":1e308}'),
    ].map((raw) => {
      const decoded = decodeEvent(raw);
      return decoded.ok ? 'accepted' : decoded.reason;
    });
    // then each is refused with the reason
    expect(reasons[0]).toMatch(/implausible time: 1970-01-01T00:00:00Z is before the earliest/);
    expect(reasons[1]).toMatch(
      /implausible time: 9999-12-31T00:00:00Z is more than 300000 ms ahead/,
    );
    expect(reasons[2]).toMatch(/implausible time/);
    expect(reasons[3]).toMatch(/importWh/);
    // and the bounds are the caller's to set, and a time just within them passes
    expect(decodeEvent(at('2026-12-04T12:05:00Z')).ok).toBe(true);
    const later = { earliestMs: Date.parse('2026-01-01T00:00:00Z'), maxAheadMs: 0 };
    expect(decodeEvent(at('2025-12-31T23:59:59Z'), undefined, later).ok).toBe(false);
  });

  it('rejects a registration in an unknown time zone', () => {
    const record = encodeEvent({
      ...registered,
      data: { ...registered.data, timeZone: 'Mars/Olympus' },
    });
    const decoded = decodeEvent(record);
    expect(!decoded.ok && decoded.reason).toMatch(/timeZone: an IANA time zone/);
  });
});

describe('JSON Schema export', () => {
  it('describes every event type with its topic', () => {
    const schema = catalogueJsonSchema() as {
      $defs: Record<string, { 'x-topic': string; properties: object }>;
    };
    expect(Object.keys(schema.$defs).sort()).toEqual(
      [...Object.values(EventType), ...Object.values(SupersededEventType)].sort(),
    );
    expect(schema.$defs[EventType.readingReported]?.['x-topic']).toBe('readings');
    expect(schema.$defs[EventType.readingReported]?.properties).toHaveProperty('importWh');
  });

  it('carries both versions of a registration, the old one naming the version it decodes as', () => {
    const schema = catalogueJsonSchema() as {
      $defs: Record<
        string,
        { 'x-topic': string; 'x-superseded-by'?: string; properties: object } | undefined
      >;
    };
    const v1 = schema.$defs['gridstream.device.registered.v1'];
    const v2 = schema.$defs['gridstream.device.registered.v2'];
    expect(v1?.['x-superseded-by']).toBe('gridstream.device.registered.v2');
    expect(v1?.properties).toHaveProperty('ratedPowerW');
    expect(v1?.properties).not.toHaveProperty('nameplate');
    expect(v2?.['x-superseded-by']).toBeUndefined();
    expect(v2?.properties).toHaveProperty('nameplate');
    expect(v2?.properties).not.toHaveProperty('ratedPowerW');
    expect([v1?.['x-topic'], v2?.['x-topic']]).toEqual(['devices', 'devices']);
  });
});

describe('docs/events.schema.json', () => {
  it('is the current export of the catalogue (regenerate: ./gridstream schema > docs/events.schema.json)', async () => {
    const { readFile } = await import('node:fs/promises');
    const committed: unknown = JSON.parse(
      await readFile(new URL('../../../docs/events.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(catalogueJsonSchema());
  });
});

describe('the quick check of CloudEvents headers', () => {
  // Mostly valid values, so that whole records pass often and each check is tried alone.
  const header = (valid: string[], invalid: string[]) =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...valid), weight: 12 },
      { arbitrary: fc.constantFrom(...invalid), weight: 1 },
      { arbitrary: fc.string({ maxLength: 140 }), weight: 1 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      {
        arbitrary: fc.array(fc.constantFrom(...valid, ...invalid), { minLength: 1, maxLength: 2 }),
        weight: 1,
      },
    );
  const headers = fc.record({
    ce_specversion: header(['1.0'], ['0.3', '']),
    ce_id: header(['e-1', 'x'.repeat(128)], ['', 'x'.repeat(129)]),
    ce_type: header([EventType.readingReported, 'gridstream.nope.v9'], ['']),
    ce_source: header(['gateway/berlin-1', 's'.repeat(256)], ['', 's'.repeat(257)]),
    ce_subject: header(['plug-1', 'meter:2.a_b'], ['-plug', 'plug 1', '']),
    ce_time: header(
      ['2026-03-29T00:30:00.000Z', '2026-03-29T00:00:00+01:00', '2028-02-29T23:59:59Z'],
      ['2026-02-29T00:00:00Z', '2026-03-29 00:30', '2026-03-29T00:30:00'],
    ),
    ce_tenant: header(['acme', 'b.2'], ['', '_acme']),
  });

  it('accepts exactly what the Attributes schema accepts, with the same values, every time', () => {
    fc.assert(
      fc.property(headers, (h) => {
        const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
        const parsed = CloudEventsAttributes.safeParse(
          Object.fromEntries(Object.entries(h).map(([k, v]) => [k, first(v)])),
        );
        const expected = parsed.success ? parsed.data : undefined;
        // twice: the second time, values seen before are answered from memory
        expect(validAttributes(h)).toEqual(expected);
        expect(validAttributes(h)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decodeEvent on text that is not ASCII', () => {
  it('reads UTF-8 headers and values as UTF-8, and refuses a header that is not UTF-8', () => {
    const event = { ...reading, source: 'gateway/zürich-1', id: 'événement-1' };
    const decoded = decodeEvent(toRaw(encodeEvent(event)));
    expect(decoded.ok && decoded.event).toEqual(event);
    const raw = toRaw(encodeEvent(reading));
    const broken = { ...raw, headers: { ...raw.headers, ce_source: new Uint8Array([0x61, 0xc3]) } };
    const refused = decodeEvent(broken);
    expect(!refused.ok && refused.reason).toMatch(/UTF-8/);
  });
});

describe('timestampMs', () => {
  it('gives what Date.parse gives for every valid timestamp, the usual UTC form read by hand', () => {
    const utc = fc
      .record({
        ms: fc.integer({ min: Date.UTC(-1, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
        fraction: fc.stringMatching(/^(\.\d{1,9})?$/),
      })
      .map(({ ms, fraction }) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, `${fraction}Z`));
    const offset = fc
      .date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
      .map((date) => date.toISOString().replace('Z', '+05:30'));
    fc.assert(
      fc.property(fc.oneof(utc, offset), (time) => {
        fc.pre(isTimestamp(time));
        expect(timestampMs(time)).toBe(Date.parse(time));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isTimestamp', () => {
  it('takes exactly what Timestamp takes, the usual UTC form without zod', () => {
    // times as producers send them, with 0 to 9 fraction digits, on any day of any month
    // (29 to 31 included, valid or not), with other offsets, and anything else
    const usual = fc
      .tuple(
        fc.date({
          min: new Date('0001-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 9 }),
      )
      .map(([date, digits]) => {
        const iso = date.toISOString();
        const fraction = `${iso.slice(20, 23)}000000`.slice(0, digits);
        return `${iso.slice(0, 19)}${digits === 0 ? '' : `.${fraction}`}Z`;
      });
    const day = fc
      .tuple(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 1999, max: 2001 }),
      )
      .map(
        ([m, d, y]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T12:00:00Z`,
      );
    const offset = usual.map((t) => t.replace('Z', '+01:00'));
    const anything = fc.string({ maxLength: 30 });
    fc.assert(
      fc.property(fc.oneof(usual, day, offset, anything), (time) => {
        expect(isTimestamp(time)).toBe(Timestamp.safeParse(time).success);
      }),
      { numRuns: 2_000 },
    );
  });
});
