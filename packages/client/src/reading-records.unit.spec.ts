import { describe, expect, it } from 'vitest';
import { CeHeader, decodeEvent, encodeEvent, EventType } from '@gridstream/events';
import { GridstreamInvalidReadingsError } from './errors.ts';
import { chunkRecords, readingRecords } from './reading-records.ts';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const context = {
  tenant: 'acme',
  source: 'gateway/line-3',
  nowMs: NOW,
  newEventId: (index: number) => `0193a000-0000-7000-8000-00000000000${index}`,
};

describe('readingRecords', () => {
  it('encodes each reading as gridstream publishes it, and gridstream decodes it back', () => {
    // given a reading with an offset time and no quality, and one with its own id
    const records = readingRecords(
      [
        { deviceId: 'meter-1', time: '2026-12-05T12:00:00+01:00', powerW: 1500, importWh: 10 },
        {
          deviceId: 'plug-7',
          time: '2026-12-05T11:59:59.5Z',
          powerW: 40,
          quality: 'estimated',
          id: '0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b',
        },
      ],
      context,
    );
    // then each is the record encodeEvent gives for the event the API would make of it
    expect(records).toEqual([
      encodeEvent({
        id: '0193a000-0000-7000-8000-000000000000',
        type: EventType.readingReported,
        source: 'gateway/line-3',
        subject: 'meter-1',
        time: '2026-12-05T11:00:00.000Z',
        tenant: 'acme',
        data: { deviceId: 'meter-1', powerW: 1500, importWh: 10, quality: 'good' },
      }),
      encodeEvent({
        id: '0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b',
        type: EventType.readingReported,
        source: 'gateway/line-3',
        subject: 'plug-7',
        time: '2026-12-05T11:59:59.500Z',
        tenant: 'acme',
        data: { deviceId: 'plug-7', powerW: 40, quality: 'estimated' },
      }),
    ]);
    expect(records[0]).toMatchObject({
      key: 'meter-1',
      headers: {
        ce_specversion: '1.0',
        ce_type: 'gridstream.reading.reported.v1',
        ce_subject: 'meter-1',
        ce_tenant: 'acme',
        'content-type': 'application/json',
      },
    });
    // and gridstream's own decoder takes them, as its consumers will
    for (const record of records) {
      const decoded = decodeEvent({ ...record, timestamp: NOW });
      expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
      if (decoded.ok) expect(decoded.event.id).toBe(record.headers[CeHeader.id]);
    }
  });

  it('refuses the whole batch naming every invalid field, as the API would', () => {
    const attempt = () =>
      readingRecords(
        [
          { deviceId: 'meter-1', time: '2026-12-05T12:00:00Z', powerW: 1 },
          { deviceId: 'bad id!', time: '2026-12-05T12:00:00Z', importWh: -5 },
          { deviceId: 'meter-1', time: '2026-12-05T12:10:00Z', powerW: 1 },
          { deviceId: 'meter-1', time: '2026-12-05T12:00:00Z' },
        ],
        context,
      );
    expect(attempt).toThrow(GridstreamInvalidReadingsError);
    try {
      attempt();
    } catch (error) {
      expect((error as GridstreamInvalidReadingsError).issues.map((i) => i.path)).toEqual([
        'readings.1.deviceId',
        'readings.1.importWh',
        // ten minutes ahead of the clock: more than the five the topics accept
        'readings.2.time',
        'readings.3',
      ]);
    }
  });
});

describe('chunkRecords', () => {
  it('keeps order and puts no more than the bound in a chunk, unless one record is larger', () => {
    const records = readingRecords(
      Array.from({ length: 10 }, (_, i) => ({
        deviceId: `meter-${i}`,
        time: '2026-12-05T12:00:00Z',
        powerW: i,
      })),
      context,
    );
    const chunks = chunkRecords(records, 1_000);
    expect(chunks.flat()).toEqual(records);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunkRecords(records, 1)).toHaveLength(10);
    expect(chunkRecords(records, 1e9)).toHaveLength(1);
  });
});
