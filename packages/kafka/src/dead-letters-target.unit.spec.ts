import { describe, expect, it } from 'vitest';
import { AssignerProtocol } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { absentGroupReason, groupReadsTopic } from './dead-letters-target.ts';

/** An admin that answers what Kafka would for one group: its offsets and its members' topics. */
function adminOf(offsets: readonly string[], memberTopics: readonly (readonly string[])[]): Admin {
  return {
    fetchOffsets: () =>
      Promise.resolve([
        {
          topic: 'gs.readings',
          partitions: offsets.map((offset, partition) => ({ partition, offset, metadata: null })),
        },
      ]),
    describeGroups: () =>
      Promise.resolve({
        groups: [
          {
            groupId: 'g',
            members: memberTopics.map((topics, n) => ({
              memberId: `m${n}`,
              clientId: 'c',
              clientHost: '/127.0.0.1',
              memberMetadata: AssignerProtocol.MemberMetadata.encode({
                version: 0,
                topics: [...topics],
                userData: Buffer.alloc(0),
              }),
              memberAssignment: Buffer.alloc(0),
            })),
            protocol: 'RoundRobinAssigner',
            protocolType: 'consumer',
            state: memberTopics.length === 0 ? 'Empty' : 'Stable',
            errorCode: 0,
          },
        ],
      }),
  } as unknown as Admin;
}

describe('whether a redrive target group reads a topic', () => {
  it('is so for a group with an offset committed on any partition of it', async () => {
    expect(await groupReadsTopic(adminOf(['-1', '12', '-1'], []), 'g', 'gs.readings')).toBe(true);
  });

  it('is so for a group with nothing committed but a member subscribed to it now', async () => {
    const admin = adminOf(['-1', '-1'], [['gs.devices', 'gs.readings']]);
    expect(await groupReadsTopic(admin, 'g', 'gs.readings')).toBe(true);
  });

  it('is not so for a group gone (nothing committed, no member) or reading other topics', async () => {
    expect(await groupReadsTopic(adminOf(['-1', '-1'], []), 'g', 'gs.readings')).toBe(false);
    expect(await groupReadsTopic(adminOf(['-1'], [['gs.devices']]), 'g', 'gs.readings')).toBe(
      false,
    );
  });

  it('refuses naming the group, the groups that read the topic, --to-group and --force', () => {
    const reason = absentGroupReason('gs.projection.devices.v1', 'gs.readings', [
      'gs.processor.energy',
      'gs.projection.devices.v2',
    ]);
    expect(reason).toMatch(
      /^consumer group gs\.projection\.devices\.v1 has no committed offsets on gs\.readings /,
    );
    expect(reason).toContain(
      'with --to-group G (groups reading it now: gs.processor.energy, gs.projection.devices.v2)',
    );
    expect(reason).toMatch(
      /or --force to put it back for gs\.projection\.devices\.v1 all the same$/,
    );
    expect(absentGroupReason('g', 't', [])).toContain(
      '(no group of this deployment has committed offsets on it)',
    );
  });
});
