import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/*
 * patches/kafkajs@2.2.4.patch writes varints in place, and a varlong whose value is in int32's
 * range as a varint (their zigzag bytes are the same). kafkajs's own decoder reads them back.
 */

interface Encoder {
  writeVarInt(value: number): Encoder;
  writeVarLong(value: number | string): Encoder;
  readonly buffer: Buffer;
}
interface Long {
  toString(): string;
}
interface Decoder {
  readVarInt(): number;
  readVarLong(): Long;
}

const require = createRequire(import.meta.url);
const EncoderClass = require('kafkajs/src/protocol/encoder.js') as {
  new (size?: number): Encoder;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: number | string): number;
};
const DecoderClass = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => Decoder;

const int32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(-(2 ** 31), -(2 ** 30) - 1, -(2 ** 30), -1, 0, 1, 2 ** 30, 2 ** 31 - 1),
);
const beyond = fc.oneof(
  fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -(2 ** 31) - 1 }),
);

describe("kafkajs's varints as patched", () => {
  it('reads back every int32 varint, many in one encoder, in the size it said', () => {
    fc.assert(
      fc.property(fc.array(int32, { minLength: 1, maxLength: 300 }), (values) => {
        // (a small start: writing grows the encoder's buffer as it goes)
        const encoder = new EncoderClass(1);
        for (const v of values) encoder.writeVarInt(v);
        const sizes = values.reduce((sum, v) => sum + EncoderClass.sizeOfVarInt(v), 0);
        expect(encoder.buffer.length).toBe(sizes);
        const decoder = new DecoderClass(encoder.buffer);
        for (const v of values) expect(decoder.readVarInt()).toBe(v);
      }),
    );
  });

  it('reads back every varlong, in and beyond int32, in the size it said', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(int32, beyond), { minLength: 1, maxLength: 100 }), (values) => {
        const encoder = new EncoderClass(1);
        for (const v of values) encoder.writeVarLong(v);
        const sizes = values.reduce((sum, v) => sum + EncoderClass.sizeOfVarLong(v), 0);
        expect(encoder.buffer.length).toBe(sizes);
        const decoder = new DecoderClass(encoder.buffer);
        for (const v of values) expect(decoder.readVarLong().toString()).toBe(String(v));
      }),
    );
  });
});
