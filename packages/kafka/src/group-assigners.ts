import { AssignerProtocol } from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';

type Assignment = Record<string, number[]>;

function encode(assignment: Assignment): Buffer {
  return AssignerProtocol.MemberAssignment.encode({
    version: 0,
    assignment,
    userData: Buffer.alloc(0),
  });
}

/**
 * Which member gets partition p of every topic, for members sorted by id: member p mod n. Pure,
 * so a property test can hold it to its promise: every partition of every topic to exactly one
 * member, partition p of all topics to the same one, and the members' shares within one.
 */
export function coPartitionedAssignment(
  memberIds: readonly string[],
  partitionsByTopic: ReadonlyMap<string, readonly number[]>,
): Map<string, Assignment> {
  const members = [...memberIds].sort();
  const result = new Map<string, Assignment>(members.map((id) => [id, {}]));
  if (members.length === 0) return result;
  for (const [topic, partitions] of partitionsByTopic) {
    for (const partition of partitions) {
      const member = members[partition % members.length] ?? '';
      const assignment = result.get(member);
      if (assignment === undefined) continue;
      (assignment[topic] ??= []).push(partition);
    }
  }
  for (const assignment of result.values())
    for (const partitions of Object.values(assignment)) partitions.sort((a, b) => a - b);
  return result;
}

/** Every partition of every topic to the first member by id; the others stand by. */
export function singleActiveAssignment(
  memberIds: readonly string[],
  partitionsByTopic: ReadonlyMap<string, readonly number[]>,
): Map<string, Assignment> {
  const [first, ...others] = [...memberIds].sort();
  const result = new Map<string, Assignment>(others.map((id) => [id, {}]));
  if (first !== undefined)
    result.set(
      first,
      Object.fromEntries(
        [...partitionsByTopic].map(([topic, partitions]) => [topic, [...partitions]]),
      ),
    );
  return result;
}

function assigner(
  name: string,
  assign: (
    memberIds: readonly string[],
    partitionsByTopic: ReadonlyMap<string, readonly number[]>,
  ) => Map<string, Assignment>,
): PartitionAssigner {
  return ({ cluster }) => ({
    name,
    version: 0,
    assign({ members, topics }) {
      const partitionsByTopic = new Map(
        topics.map((topic) => [
          topic,
          cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId),
        ]),
      );
      const assignments = assign(
        members.map((m) => m.memberId),
        partitionsByTopic,
      );
      return Promise.resolve(
        [...assignments].map(([memberId, assignment]) => ({
          memberId,
          memberAssignment: encode(assignment),
        })),
      );
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}

/**
 * Partition p of every subscribed topic to one member (like Kafka Streams' co-partitioning).
 * Every event of a device carries its id as key, and gridstream's topics have as many partitions
 * each, so a device's registry, readings, commands and alerts state are all handled by one
 * member: two instances of a service never write one device's document at once. That is what
 * makes several live instances safe on FerretDB, whose version guard does not hold between
 * concurrent writers (docs/projections.md), and it keeps a processor's per-device state with
 * one instance. The default of every gridstream consumer group.
 */
export const coPartitionedAssigner = assigner('GridstreamCoPartitioned', coPartitionedAssignment);

/**
 * Every partition to one member, the others standing by to take over when it leaves: for a
 * service whose documents gather events from every partition (the site-energy projection's
 * site days) and so cannot be shared out safely without a store that guards concurrent writes.
 */
export const singleActiveAssigner = assigner('GridstreamSingleActive', singleActiveAssignment);
