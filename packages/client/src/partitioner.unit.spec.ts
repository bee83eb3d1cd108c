import { crc32 } from 'node:zlib';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@gridstream/config';
import { partitionOfKey } from '@gridstream/kafka';
import { createFleet, seededRandom } from '@gridstream/simulator';
import { partitionOf } from './kafka.ts';

// kafkajs's murmur2, which its DefaultPartitioner hashes keys with (not exported by name)
const murmur2 = createRequire(import.meta.url)(
  'kafkajs/src/producer/partitioners/default/murmur2.js',
) as (key: string) => number;

/** librdkafka's default partitioner (consistent_random, so kcat's): CRC32 of the key. */
const librdkafkaDefault = (key: string, partitions: number) => crc32(key) % partitions;

describe('the partitioner other producers must use (docs/events.md)', () => {
  it("hashes as Java's Utils.murmur2 (the vectors of Kafka's own UtilsTest)", () => {
    expect(
      ['21', 'foobar', 'a-little-bit-long-string', 'a-little-bit-longer-string', 'abc'].map(
        murmur2,
      ),
    ).toEqual([-973932308, -790332482, -985981536, -1486304829, 479470107]);
  });

  it("puts a key where gridstream's publisher does: murmur2, positive, modulo the count", () => {
    for (const key of ['site-001-meter', 'plug-7', 'x'])
      for (const partitions of [1, 3, 6, 12]) {
        const expected = (murmur2(key) & 0x7fffffff) % partitions;
        expect(partitionOf(key, partitions)).toBe(expected);
        expect(partitionOfKey(key, partitions)).toBe(expected);
      }
  });

  it("moves 23 of the simulator's 30 devices under librdkafka's (kcat's) default on 6 partitions", () => {
    // the simulator's default fleet (5 sites of 6 devices) and the topics' default partitions
    const partitions = loadConfig({}).GS_TOPIC_PARTITIONS;
    const deviceIds = createFleet(5, seededRandom(1)).map((d) => d.registration.deviceId);
    expect(partitions).toBe(6);
    expect(deviceIds).toHaveLength(30);
    // CRC32 as librdkafka computes it: the standard check value
    expect(crc32('123456789')).toBe(0xcbf43926);
    const moved = deviceIds.filter(
      (id) => librdkafkaDefault(id, partitions) !== partitionOf(id, partitions),
    );
    expect(moved).toHaveLength(23);
  });
});
