import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { CompressionTypes } from 'kafkajs';
import type { IHeaders } from 'kafkajs';
import { describe, expect, it } from 'vitest';

/*
 * patches/kafkajs@2.2.4.patch decodes a batch's records in one loop (decodeRecordsFast) and falls
 * back to kafkajs's own decoder for what that loop does not handle. These properties check both
 * against kafkajs's encoder, byte for byte, without a broker: any records, offsets and times.
 */

interface EncodedBatch {
  readonly buffer: Buffer;
}
interface DecodedRecord {
  readonly offset: string;
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
  readonly isControlRecord: boolean;
}
type HeaderValue = string | string[];
interface RecordInput {
  readonly offsetDelta: number;
  readonly timestampDelta: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, HeaderValue>;
}

const require = createRequire(import.meta.url);
const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: {
    compression: number;
    firstOffset: string;
    firstTimestamp: number;
    maxTimestamp: number;
    lastOffsetDelta: number;
    records: unknown[];
  }) => Promise<EncodedBatch>;
};
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  record: RecordInput,
) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  decoder: unknown,
) => Promise<{ records: DecodedRecord[] }>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;

const bytes = fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)));
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const headerName = fc.oneof(
  fc.constantFrom('ce_id', 'ce_type', 'ce_time', '__proto__', 'clé', ''),
  text,
);
// Values that repeat from record to record, or differ in one byte at the start or the end
// (the fast path reuses a header's last value when the bytes are equal).
const headerValue = fc.oneof(
  text,
  fc.constantFrom('', 'a', 'b', 'ab', 'bb', 'ba', 'id-10', 'id-11'),
);
const headers = fc
  .array(
    fc.tuple(
      headerName,
      fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })),
    ),
    {
      maxLength: 8,
    },
  )
  .map((entries) => {
    const result: Record<string, HeaderValue> = {};
    for (const [name, value] of entries) {
      Object.defineProperty(result, name, { value, enumerable: true, writable: true });
    }
    return result;
  });
const record = fc.record({
  timestampDelta: fc.oneof(fc.nat(1_000_000), fc.nat(2 ** 52)),
  key: bytes,
  value: bytes,
  headers,
});
const batch = fc.record({
  // Offsets past 2^53 leave the fast path: they are decoded the original way.
  firstOffset: fc.oneof(fc.nat(2 ** 53 - 10_000).map(BigInt), fc.bigInt(2n ** 53n, 2n ** 62n)),
  firstTimestamp: fc.nat(2 ** 45),
  records: fc.array(record, { minLength: 1, maxLength: 20 }),
  compression: fc.constantFrom(CompressionTypes.None, CompressionTypes.GZIP),
});

const headerText = (value: IHeaders[string]) =>
  Array.isArray(value) ? value.map((v) => v.toString()) : value?.toString();

describe('record batches through the patched kafkajs decoder', () => {
  it('decodes every record as encoded: offset, timestamp, key, value and headers', async () => {
    await fc.assert(
      fc.asyncProperty(batch, async ({ firstOffset, firstTimestamp, records, compression }) => {
        // given a record batch as kafkajs's producer encodes it
        const inputs = records.map((r, i) => ({ ...r, offsetDelta: i }));
        const encoded = await encodeBatch({
          compression,
          firstOffset: firstOffset.toString(),
          firstTimestamp,
          maxTimestamp: firstTimestamp,
          lastOffsetDelta: inputs.length - 1,
          records: inputs.map(encodeRecord),
        });

        // when it is decoded
        const decoded = await decodeBatch(new Decoder(encoded.buffer));

        // then each record is what was encoded
        expect(decoded.records).toHaveLength(inputs.length);
        decoded.records.forEach((got, i) => {
          const want = inputs[i];
          if (want === undefined) throw new Error(`record ${i} was not encoded`);
          expect(got.offset).toBe((firstOffset + BigInt(i)).toString());
          expect(got.timestamp).toBe(
            (BigInt(firstTimestamp) + BigInt(want.timestampDelta)).toString(),
          );
          expect(got.key).toEqual(want.key);
          expect(got.value).toEqual(want.value);
          expect(got.isControlRecord).toBe(false);
          expect(Object.getPrototypeOf(got.headers)).toBe(Object.prototype);
          expect(Object.keys(got.headers)).toEqual(Object.keys(want.headers));
          for (const name of Object.keys(want.headers)) {
            const own = Object.getOwnPropertyDescriptor(got.headers, name)
              ?.value as IHeaders[string];
            const sent = Object.getOwnPropertyDescriptor(want.headers, name)?.value as HeaderValue;
            // A value that is not ASCII stays bytes, for the reader to decode or refuse.
            for (const value of [own].flat())
              if (typeof value === 'string') expect(isAscii(Buffer.from(value))).toBe(true);
            // On the wire a list of one is one header: it comes back as a single value.
            expect(headerText(own)).toEqual(
              Array.isArray(sent) && sent.length === 1 ? sent[0] : sent,
            );
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('header values from the fast path', () => {
  it('come as strings when ASCII, the same string while a header repeats, and as bytes otherwise', async () => {
    // given records whose type repeats and whose ids and names vary, one name not ASCII
    const inputs = ['a', 'b', 'Zähler'].map((name, i) => ({
      offsetDelta: i,
      timestampDelta: i,
      key: Buffer.from(`k${i}`),
      value: Buffer.from('{}'),
      headers: { ce_type: 'gridstream.reading.reported.v1', ce_id: `id-${i}`, name },
    }));
    const encoded = await encodeBatch({
      compression: CompressionTypes.None,
      firstOffset: '42',
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_002,
      lastOffsetDelta: 2,
      records: inputs.map(encodeRecord),
    });

    // when they are decoded
    const { records } = await decodeBatch(new Decoder(encoded.buffer));

    // then ASCII values are strings, and the repeated type is one string
    expect(records.map((r) => r.headers['ce_id'])).toEqual(['id-0', 'id-1', 'id-2']);
    expect(records.map((r) => r.headers['ce_type'])).toEqual(
      Array(3).fill('gridstream.reading.reported.v1'),
    );
    expect(records.map((r) => r.headers['name']).slice(0, 2)).toEqual(['a', 'b']);
    const notAscii = records[2]?.headers['name'];
    expect(Buffer.isBuffer(notAscii)).toBe(true);
    expect(notAscii?.toString()).toBe('Zähler');
    expect(records.map((r) => r.offset)).toEqual(['42', '43', '44']);
  });
});

/*
 * The same patch keeps a fetched partition's records as they are when all of them are from the
 * fetched offset on and none is a control record, instead of two filtered copies.
 */
interface BatchRecord {
  readonly offset: string;
  readonly isControlRecord: boolean;
}
const Batch = require('kafkajs/src/consumer/batch.js') as new (
  topic: string,
  fetchedOffset: string,
  partitionData: { partition: number; highWatermark: string; messages: BatchRecord[] },
) => { messages: BatchRecord[]; rawMessages: BatchRecord[]; messagesWithinOffset: BatchRecord[] };

describe("a fetched partition's records in a Batch", () => {
  it('are those from the fetched offset on, control records left out, as kafkajs filters them', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean()), { maxLength: 30 }),
        fc.integer({ min: 0, max: 40 }),
        (base, steps, ahead) => {
          // offsets in order, with gaps (compaction), some control records
          let offset = base;
          const records = steps.map(([step, control]) => {
            offset += step;
            return { offset: String(offset), isControlRecord: control };
          });
          const fetched = String(base + ahead);
          const batch = new Batch('t', fetched, {
            partition: 0,
            highWatermark: String(offset + 1),
            messages: records,
          });
          const within = records.filter((r) => BigInt(r.offset) >= BigInt(fetched));
          expect(batch.messagesWithinOffset).toEqual(within);
          expect(batch.messages).toEqual(within.filter((r) => !r.isControlRecord));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('are the fetched array itself in the usual case, not a copy', () => {
    const records = ['7', '8', '9'].map((offset) => ({ offset, isControlRecord: false }));
    const batch = new Batch('t', '7', { partition: 0, highWatermark: '10', messages: records });
    expect(batch.messages).toBe(records);
    expect(batch.messagesWithinOffset).toBe(records);
  });
});
