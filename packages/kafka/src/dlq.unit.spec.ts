import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { chunkBySize, deadLetterBytes, deadLetterRecord, DlqHeader } from './dlq.ts';

function message(value: Buffer, headers: IHeaders = {}): KafkaMessage {
  return {
    key: Buffer.from('meter-1'),
    value,
    headers: { ce_type: 'gridstream.reading.reported.v1', ...headers },
    offset: '42',
    timestamp: '0',
    attributes: 0,
  };
}

const letter = (value: Buffer, headers?: IHeaders) => ({
  message: message(value, headers),
  topic: 'gridstream.readings',
  partition: 3,
  reason: 'invalid data',
  stage: 'decode' as const,
});

const failedAt = new Date('2026-12-04T00:00:00Z');

describe('deadLetterRecord', () => {
  it('keeps a letter that fits whole, with the reason, the source and the group', () => {
    // given a small unusable message
    const record = deadLetterRecord(letter(Buffer.from('{"x":1}')), 'g1', failedAt, 1_048_588);
    // then it is kept as it was, with headers that say why, where from and which group
    expect(record.value?.toString()).toBe('{"x":1}');
    expect(record.key?.toString()).toBe('meter-1');
    expect(record.headers).toMatchObject({
      ce_type: 'gridstream.reading.reported.v1',
      [DlqHeader.error]: 'invalid data',
      [DlqHeader.stage]: 'decode',
      [DlqHeader.sourceTopic]: 'gridstream.readings',
      [DlqHeader.sourcePartition]: '3',
      [DlqHeader.sourceOffset]: '42',
      [DlqHeader.consumerGroup]: 'g1',
    });
    expect(record.headers[DlqHeader.truncated]).toBeUndefined();
  });

  it('cuts a value too large for the topic, keeping its size and SHA-256', () => {
    // given a 900 KB message and a DLQ topic that takes 100 KB
    const value = Buffer.alloc(900_000, 'a');
    const record = deadLetterRecord(letter(value), 'g1', failedAt, 100_000);
    // then the letter fits, says it was cut, and identifies the original exactly
    expect(deadLetterBytes(record)).toBeLessThanOrEqual(100_000);
    expect(record.headers[DlqHeader.truncated]).toBe('value');
    expect(record.headers[DlqHeader.originalSize]).toBe('900000');
    expect(record.headers[DlqHeader.originalSha256]).toBe(
      createHash('sha256').update(value).digest('hex'),
    );
    expect(record.headers[DlqHeader.error]).toBe('invalid data');
    expect(value.subarray(0, record.value?.length).equals(record.value ?? Buffer.alloc(0))).toBe(
      true,
    );
  });

  it('fits any letter under the limit, however large its value and headers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 20_000, max: 1_048_588 }),
        (valueBytes, headerBytes, limit) => {
          const record = deadLetterRecord(
            letter(Buffer.alloc(valueBytes, 'v'), { 'x-big': Buffer.alloc(headerBytes, 'h') }),
            'group',
            failedAt,
            limit,
          );
          expect(deadLetterBytes(record)).toBeLessThanOrEqual(limit);
          expect(record.headers[DlqHeader.error]).toBe('invalid data');
        },
      ),
    );
  });
});

describe('chunkBySize', () => {
  it('keeps every record once, in order, each chunk within the limit unless one record alone is over', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 500 })),
        fc.integer({ min: 1, max: 1000 }),
        (sizes, limit) => {
          const chunks = chunkBySize(sizes, (size) => size, limit);
          expect(chunks.flat()).toEqual(sizes);
          for (const chunk of chunks) {
            const total = chunk.reduce((sum, size) => sum + size, 0);
            expect(chunk.length === 1 || total <= limit).toBe(true);
          }
        },
      ),
    );
  });
});
