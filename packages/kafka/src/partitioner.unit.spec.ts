import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import { rememberingKeyPartitioner } from './partitioner.ts';

const metadata = (count: number, leaderless: readonly number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

describe('rememberingKeyPartitioner', () => {
  it("answers as kafkajs's default partitioner for every key, asked again or after the topic grew", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            topic: fc.constantFrom('readings', 'devices'),
            key: fc.string({ unit: 'grapheme', maxLength: 40 }),
            count: fc.constantFrom(1, 3, 6, 12),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        (messages) => {
          const remembering = rememberingKeyPartitioner();
          const plain = Partitioners.DefaultPartitioner();
          // each message twice: the second answer comes from what was remembered
          for (const { topic, key, count } of [...messages, ...messages]) {
            const args = {
              topic,
              partitionMetadata: metadata(count),
              message: { key, value: null },
            };
            expect(remembering(args)).toBe(plain(args));
          }
        },
      ),
    );
  });

  it('leaves a message with its own partition, or without a key, to the default partitioner', () => {
    const remembering = rememberingKeyPartitioner();
    const partitionMetadata = metadata(6, [0, 1, 2, 3, 4]);
    expect(
      remembering({
        topic: 't',
        partitionMetadata,
        message: { key: 'k', value: null, partition: 2 },
      }),
    ).toBe(2);
    // (keyless: round robin over the partitions with a leader, here only 5)
    for (let i = 0; i < 5; i++)
      expect(remembering({ topic: 't', partitionMetadata, message: { value: null } })).toBe(5);
  });
});
