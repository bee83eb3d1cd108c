import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldDocument, isApplied, offsetAtMost } from './positioned-store.ts';
import type { LogPosition } from './positioned-store.ts';

const at = (offset: string, topic = 'gridstream.readings', partition = 0): LogPosition => ({
  topic,
  partition,
  offset,
});

describe('isApplied', () => {
  it('says no when nothing has been applied yet', () => {
    expect(isApplied([], at('0'))).toBe(false);
  });

  it('says yes at or below the recorded offset, no above it', () => {
    // given offset 41 applied on one partition
    const positions = [at('41')];
    // then 40 and 41 are applied, 42 is not
    expect(isApplied(positions, at('40'))).toBe(true);
    expect(isApplied(positions, at('41'))).toBe(true);
    expect(isApplied(positions, at('42'))).toBe(false);
  });

  it('keeps each topic-partition apart', () => {
    // given offset 100 applied on partition 0 of the readings topic
    const positions = [at('100', 'gridstream.readings', 0)];
    // then offset 5 elsewhere, on another partition or another topic, is not applied
    expect(isApplied(positions, at('5', 'gridstream.readings', 1))).toBe(false);
    expect(isApplied(positions, at('5', 'gridstream.devices', 0))).toBe(false);
    expect(isApplied(positions, at('5', 'gridstream.readings', 0))).toBe(true);
  });

  it('reads the position of the matching partition among several', () => {
    const positions = [
      at('7', 'gridstream.devices', 0),
      at('3', 'gridstream.readings', 1),
      at('900', 'gridstream.readings', 0),
    ];
    expect(isApplied(positions, at('4', 'gridstream.readings', 1))).toBe(false);
    expect(isApplied(positions, at('3', 'gridstream.readings', 1))).toBe(true);
    expect(isApplied(positions, at('899', 'gridstream.readings', 0))).toBe(true);
    expect(isApplied(positions, at('8', 'gridstream.devices', 0))).toBe(false);
  });

  it('compares offsets as numbers, not as text', () => {
    // "10" sorts before "9" as text, but offset 10 comes after 9
    expect(isApplied([at('9')], at('10'))).toBe(false);
    expect(isApplied([at('10')], at('9'))).toBe(true);
  });

  it('compares offsets beyond 2^53 exactly', () => {
    // 2^53 + 1 rounds to 2^53 as a JavaScript number
    const twoTo53 = (2n ** 53n).toString();
    const twoTo53Plus1 = (2n ** 53n + 1n).toString();
    expect(isApplied([at(twoTo53)], at(twoTo53Plus1))).toBe(false);
    expect(isApplied([at(twoTo53Plus1)], at(twoTo53))).toBe(true);
    const maxInt64 = (2n ** 63n - 1n).toString();
    expect(isApplied([at((2n ** 63n - 2n).toString())], at(maxInt64))).toBe(false);
  });

  it('agrees with 64-bit integer order for any two offsets (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        (applied, incoming) => {
          expect(isApplied([at(applied.toString())], at(incoming.toString()))).toBe(
            incoming <= applied,
          );
        },
      ),
    );
  });
});

describe('offsetAtMost', () => {
  it('orders offsets as BigInt does, for every pair up to 2^63', () => {
    const offset = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      fc.bigInt({ min: 0n, max: 1000n }),
    );
    fc.assert(
      fc.property(offset, offset, (a, b) => {
        expect(offsetAtMost(a.toString(), b.toString())).toBe(a <= b);
      }),
    );
  });
});

describe('foldDocument', () => {
  it('applies each partition in offset order once, and leaves the document it started from alone', () => {
    // changes on two partitions, some delivered twice or late
    const change = fc.record({
      partition: fc.integer({ min: 0, max: 1 }),
      offset: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(
        fc.array(change, { maxLength: 40 }),
        fc.array(change, { maxLength: 40 }),
        (first, second) => {
          const toChanges = (list: { partition: number; offset: number }[]) =>
            list.map(({ partition, offset }) => ({
              documentId: 'd',
              position: at(String(offset), 't', partition),
              input: `${partition}:${offset}`,
            }));
          const fold = (state: string[] | null, input: string) => [...(state ?? []), input];
          const before = foldDocument(undefined, toChanges(first), fold);
          const snapshot = structuredClone(before);
          const after = foldDocument(before, toChanges(second), fold) ?? before;
          // the first document was not changed by the second fold
          expect(before).toEqual(snapshot);
          // applied: per partition, each change above the highest offset applied before it
          const expected: string[] = [];
          const highest = new Map<number, number>();
          for (const { partition, offset } of [...first, ...second]) {
            if (offset <= (highest.get(partition) ?? -1)) continue;
            highest.set(partition, offset);
            expected.push(`${partition}:${offset}`);
          }
          expect(after?.state ?? []).toEqual(expected);
          expect([...(after?.positions ?? [])].sort((x, y) => x.partition - y.partition)).toEqual(
            [...highest].sort(([x], [y]) => x - y).map(([p, o]) => at(String(o), 't', p)),
          );
        },
      ),
    );
  });
});
