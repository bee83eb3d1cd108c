import { AssignerProtocol } from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';

/** One of `count` parts of a job over a set of topics: partition p of every topic where p mod count = index. */
export interface Part {
  readonly index: number;
  readonly count: number;
}

/** Whether partition `partition` (of any of the topics) is one of `part`'s. */
export function inPart(part: Part, partition: number): boolean {
  return partition % part.count === part.index;
}

/** The partitions of `part` among `partitions`. */
export function partitionsOfPart(part: Part, partitions: readonly number[]): number[] {
  return partitions.filter((p) => inPart(part, p)).sort((a, b) => a - b);
}

/**
 * A kafkajs assigner that gives a group's member the partitions of one part: partition p of
 * every subscribed topic where p mod count = index. Where every event of a document carries the
 * same key, and the topics have as many partitions, partition p of each topic holds the same
 * documents, so parts in groups of their own fold disjoint documents (a rebuild in worker
 * threads). A part's group has one member; should a killed member still linger in it, the first
 * by member id gets the part and the other nothing until the group settles.
 */
export function partAssigner(part: Part): PartitionAssigner {
  if (!Number.isInteger(part.count) || part.count < 1 || part.index < 0 || part.index >= part.count)
    throw new RangeError(`no part ${part.index} of ${part.count}`);
  return ({ cluster }) => ({
    name: `GridstreamPart${part.index}Of${part.count}`,
    version: 0,
    assign({ members, topics }) {
      const [first, ...others] = members.map((m) => m.memberId).sort();
      const assignment: Record<string, number[]> = {};
      for (const topic of topics) {
        const all = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
        assignment[topic] = partitionsOfPart(part, all);
      }
      const encode = (of: Record<string, number[]>) =>
        AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: of,
          userData: Buffer.alloc(0),
        });
      return Promise.resolve([
        ...(first === undefined ? [] : [{ memberId: first, memberAssignment: encode(assignment) }]),
        ...others.map((memberId) => ({ memberId, memberAssignment: encode({}) })),
      ]);
    },
    protocol({ topics }) {
      return {
        name: `GridstreamPart${part.index}Of${part.count}`,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}
