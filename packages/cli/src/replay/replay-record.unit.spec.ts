import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import {
  csvColumns,
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
