import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coPartitionedAssignment, singleActiveAssignment } from './group-assigners.ts';

const groups = fc.record({
  members: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), {
    minLength: 1,
    maxLength: 6,
  }),
  topics: fc.uniqueArray(fc.constantFrom('readings', 'devices', 'commands', 'gateway'), {
    minLength: 1,
  }),
  partitions: fc.integer({ min: 1, max: 12 }),
});

function partitionsOf(topics: readonly string[], count: number) {
  return new Map(topics.map((topic) => [topic, Array.from({ length: count }, (_, p) => p)]));
}

describe('coPartitionedAssignment', () => {
  it('gives every partition to one member, partition p of all topics to the same, in shares within one', () => {
    fc.assert(
      fc.property(groups, ({ members, topics, partitions }) => {
        const assignment = coPartitionedAssignment(members, partitionsOf(topics, partitions));
        expect([...assignment.keys()].sort()).toEqual([...members].sort());
        const owner = new Map<string, string>();
        for (const [member, byTopic] of assignment)
          for (const [topic, owned] of Object.entries(byTopic))
            for (const partition of owned) {
              // each partition once
              expect(owner.has(`${topic}/${partition}`)).toBe(false);
              owner.set(`${topic}/${partition}`, member);
            }
        expect(owner.size).toBe(topics.length * partitions);
        for (let p = 0; p < partitions; p++) {
          const owners = new Set(topics.map((topic) => owner.get(`${topic}/${p}`)));
          expect(owners.size).toBe(1);
        }
        const shares = [...assignment.values()].map(
          (byTopic) => new Set(Object.values(byTopic).flat()).size,
        );
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is the same whatever order the members come in', () => {
    fc.assert(
      fc.property(groups, ({ members, topics, partitions }) => {
        const of = partitionsOf(topics, partitions);
        expect(coPartitionedAssignment([...members].reverse(), of)).toEqual(
          coPartitionedAssignment(members, of),
        );
      }),
    );
  });
});

describe('singleActiveAssignment', () => {
  it('gives everything to one member and nothing to the others', () => {
    fc.assert(
      fc.property(groups, ({ members, topics, partitions }) => {
        const assignment = singleActiveAssignment(members, partitionsOf(topics, partitions));
        const active = [...assignment].filter(([, byTopic]) => Object.keys(byTopic).length > 0);
        expect(active).toHaveLength(1);
        expect(Object.values(active[0]?.[1] ?? {}).flat()).toHaveLength(topics.length * partitions);
        expect(assignment.size).toBe(members.length);
      }),
    );
  });
});
