import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType, SupersededEventType } from '@gridstream/events';
import {
  csvColumns,
  currentVersionOf,
  csvField,
  csvRow,
  matchesFilter,
  ndjsonLine,
  NdjsonChunk,
  replayRecordOf,
  resolveEventTypes,
} from './replay-record.ts';
import type { ReplayRecord } from './replay-record.ts';

const record: ReplayRecord = {
  id: '01930000-0000-7000-8000-000000000001',
  type: EventType.readingReported,
  source: '/v1/readings',
  subject: 'plug-1',
  time: '2026-11-24T10:00:00.000Z',
  tenant: 'acme',
  dataJson: '{"deviceId":"plug-1","powerW":12.5,"phases":{"l1":{"powerW":12.5}},"quality":"good"}',
};

describe('replayRecordOf', () => {
  it('reads the CloudEvents headers and keeps the value as text', () => {
    const headers = {
      ce_specversion: Buffer.from('1.0'),
      ce_id: Buffer.from(record.id),
      ce_type: Buffer.from(record.type),
      ce_source: Buffer.from(record.source),
      ce_subject: Buffer.from(record.subject),
      ce_time: Buffer.from(record.time),
      ce_tenant: Buffer.from(record.tenant),
    };
    expect(replayRecordOf({ headers, value: Buffer.from(record.dataJson) })).toEqual(record);
  });

  it('is undefined for a message without the attributes or a value', () => {
    expect(replayRecordOf({ headers: {}, value: Buffer.from('{}') })).toBeUndefined();
    expect(replayRecordOf({ headers: undefined, value: null })).toBeUndefined();
  });
});

describe('matchesFilter', () => {
  const window = {
    fromMs: Date.parse('2026-11-24T10:00:00Z'),
    toMs: Date.parse('2026-11-24T11:00:00Z'),
  };

  it('takes event time from inclusive to exclusive', () => {
    expect(matchesFilter(record, window)).toBe(true);
    expect(matchesFilter({ ...record, time: '2026-11-24T11:00:00Z' }, window)).toBe(false);
    expect(matchesFilter({ ...record, time: '2026-11-24T09:59:59.999Z' }, window)).toBe(false);
  });

  it('applies tenant, device and type filters together', () => {
    expect(
      matchesFilter(record, {
        ...window,
        tenants: new Set(['acme']),
        devices: new Set(['plug-1']),
      }),
    ).toBe(true);
    expect(matchesFilter(record, { ...window, tenants: new Set(['other']) })).toBe(false);
    expect(matchesFilter(record, { ...window, devices: new Set(['plug-2']) })).toBe(false);
    expect(matchesFilter(record, { ...window, types: new Set([EventType.deviceRegistered]) })).toBe(
      false,
    );
  });
});

describe('resolveEventTypes', () => {
  it('accepts full names and short forms', () => {
    expect(resolveEventTypes(['reading.reported', EventType.deviceRegistered])).toEqual(
      new Set([EventType.readingReported, EventType.deviceRegistered]),
    );
  });

  it('names the unknown ones', () => {
    expect(() => resolveEventTypes(['reading.reportd'])).toThrow(
      /unknown event type reading.reportd/,
    );
  });
});

describe('output', () => {
  it('writes an NDJSON line in CloudEvents structured mode with data as stored', () => {
    const line = ndjsonLine(record);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      specversion: '1.0',
      id: record.id,
      type: record.type,
      source: record.source,
      subject: record.subject,
      time: record.time,
      tenant: record.tenant,
      datacontenttype: 'application/json',
      data: JSON.parse(record.dataJson) as unknown,
    });
  });

  it('keeps one event per line, its attributes in CloudEvents order, whatever they hold', () => {
    const awkward = { ...record, subject: 'plug "1"\\\nsecond line', tenant: 'acmé\u2028' };
    const line = ndjsonLine(awkward);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed.subject).toBe(awkward.subject);
    expect(parsed.tenant).toBe(awkward.tenant);
    expect(Object.keys(parsed)).toEqual([
      'specversion',
      'id',
      'type',
      'source',
      'subject',
      'time',
      'tenant',
      'datacontenttype',
      'data',
    ]);
  });

  it('builds as bytes the lines ndjsonLine gives, whatever the data bytes are', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 20 });
    const attributes = fc.record({
      id: text,
      type: text,
      source: text,
      subject: text,
      time: text,
      tenant: text,
    });
    const data = fc.oneof(
      fc.json().map((json) => Buffer.from(json)),
      // not UTF-8: shown as ndjsonLine shows it, with replacement characters
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      // large enough that the chunk grows past its first buffer
      fc.constant(Buffer.from(JSON.stringify({ text: 'ä'.repeat(200_000) }))),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(attributes, data), { maxLength: 12 }), (records) => {
        const chunk = new NdjsonChunk();
        for (const [a, bytes] of records) chunk.add(a, bytes);
        const expected = records
          .map(([a, bytes]) => ndjsonLine({ ...a, dataJson: bytes.toString('utf8') }))
          .join('');
        expect(chunk.take().equals(Buffer.from(expected))).toBe(true);
        expect(chunk.take().length).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('quotes CSV fields as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(undefined)).toBe('');
  });

  it('puts data fields in their columns, nested values as JSON', () => {
    const columns = csvColumns(new Set([EventType.readingReported]));
    expect(columns.slice(0, 6)).toEqual(['time', 'type', 'tenant', 'subject', 'id', 'source']);
    expect(columns).toContain('powerW');
    const row = csvRow(record, columns);
    const cells = new Map(
      columns.map((c, i) => [c, row.trimEnd().split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)[i]]),
    );
    expect(cells.get('powerW')).toBe('12.5');
    expect(cells.get('phases')).toBe('"{""l1"":{""powerW"":12.5}}"');
    expect(cells.get('importWh')).toBe('');
  });
});

describe('old event versions', () => {
  const registrationV1 = {
    ...record,
    type: SupersededEventType.deviceRegisteredV1,
    subject: 'meter-1',
  };
  const v1Data = {
    deviceId: 'meter-1',
    siteId: 'site-1',
    kind: 'meter',
    role: 'grid',
    name: 'Main meter',
    timeZone: 'Europe/Berlin',
    ratedPowerW: 17000,
    counterWrapWh: 1000000000,
  };

  it('writes a registration stored as v1 as v2, and a current type as stored, not copied', () => {
    // given a registration a v1 producer wrote, and a reading
    const { dataJson: _v1, ...v1Attributes } = registrationV1;
    const { dataJson, ...readingAttributes } = record;
    const readingBytes = Buffer.from(dataJson);
    // when each is taken to its current version
    const registration = currentVersionOf(v1Attributes, Buffer.from(JSON.stringify(v1Data)));
    const reading = currentVersionOf(readingAttributes, readingBytes);
    // then the registration is v2, its rating and register size in nameplate
    expect(registration.attributes).toEqual({ ...v1Attributes, type: EventType.deviceRegistered });
    const { ratedPowerW, counterWrapWh, ...rest } = v1Data;
    expect(JSON.parse(registration.data.toString('utf8'))).toEqual({
      ...rest,
      nameplate: { ratedPowerW, counterWrapWh },
    });
    // and the reading's attributes and bytes are the very ones stored
    expect(reading.attributes).toBe(readingAttributes);
    expect(reading.data).toBe(readingBytes);
  });

  it('leaves an old version it cannot upcast as stored', () => {
    const { dataJson: _v1, ...attributes } = registrationV1;
    const notJson = Buffer.from('{"deviceId":');
    const invalid = Buffer.from(JSON.stringify({ ...v1Data, ratedPowerW: -1 }));
    expect(currentVersionOf(attributes, notJson)).toEqual({ attributes, data: notJson });
    expect(currentVersionOf(attributes, invalid)).toEqual({ attributes, data: invalid });
  });

  it('selects every registration by any of its names, and gives CSV columns of current types only', () => {
    for (const name of ['device.registered', 'device.registered.v1', EventType.deviceRegistered])
      expect(resolveEventTypes([name])).toEqual(new Set([EventType.deviceRegistered]));
    const columns = csvColumns(undefined);
    expect(columns).toContain('nameplate');
    expect(columns).not.toContain('counterWrapWh');
  });
});
