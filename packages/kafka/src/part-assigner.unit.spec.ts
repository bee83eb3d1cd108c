import fc from 'fast-check';
import { AssignerProtocol } from 'kafkajs';
import type { Cluster } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partAssigner, partitionsOfPart } from './part-assigner.ts';

/** The part's assignment, per member, as the group's leader hands it out. */
async function assign(
  part: { index: number; count: number },
  partitions: Record<string, number>,
  memberIds: string[],
): Promise<Map<string, Record<string, number[]>>> {
  const cluster = {
    findTopicPartitionMetadata: (topic: string) =>
      Array.from({ length: partitions[topic] ?? 0 }, (_, partitionId) => ({ partitionId })),
  } as unknown as Cluster;
  const assigner = partAssigner(part)({ cluster, groupId: 'g', logger: undefined as never });
  const topics = Object.keys(partitions);
  const members = memberIds.map((memberId) => ({
    memberId,
    memberMetadata: assigner.protocol({ topics }).metadata,
  }));
  const assigned = await assigner.assign({ members, topics });
  return new Map(
    assigned.map(({ memberId, memberAssignment }) => [
      memberId,
      AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment ?? {},
    ]),
  );
}

describe('partAssigner', () => {
  it('gives each partition of every topic to exactly one part, partition p of all topics to the same', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 24 }),
        async (count, partitions) => {
          const topics = { devices: partitions, readings: partitions, energy: partitions };
          const owners = new Map<string, number[]>();
          for (let index = 0; index < count; index++) {
            const assignment = await assign({ index, count }, topics, [`member-${index}`]);
            for (const [topic, got] of Object.entries(assignment.get(`member-${index}`) ?? {}))
              for (const p of got)
                owners.set(`${topic}/${p}`, [...(owners.get(`${topic}/${p}`) ?? []), index]);
          }
          for (const topic of Object.keys(topics))
            for (let p = 0; p < partitions; p++)
              expect(owners.get(`${topic}/${p}`)).toEqual([p % count]);
        },
      ),
    );
  });

  it('gives the part to one member only when a killed one lingers in the group', async () => {
    const assignment = await assign({ index: 1, count: 2 }, { readings: 6 }, ['b-new', 'a-old']);
    expect(assignment.get('a-old')).toEqual({ readings: [1, 3, 5] });
    expect(assignment.get('b-new')).toEqual({});
  });

  it('refuses a part that does not exist', () => {
    expect(() => partAssigner({ index: 2, count: 2 })).toThrow(/no part 2 of 2/);
    expect(() => partAssigner({ index: 0, count: 0 })).toThrow(/no part 0 of 0/);
    expect(partitionsOfPart({ index: 0, count: 3 }, [5, 3, 0, 6])).toEqual([0, 3, 6]);
  });
});
