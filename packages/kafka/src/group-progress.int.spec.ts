import { afterAll, describe, expect, it } from 'vitest';
import { testTopics } from '../../../test/support.ts';
import { committedMessages } from './index.ts';

const { kafka, topics, remove } = await testTopics('group-progress', 3);

afterAll(remove);

describe('committedMessages', () => {
  it("sums a group's committed offsets, through a client of its own or a connected admin kept", async () => {
    // given a group that committed offsets 5 and 7 on two of three partitions
    const groupId = `${topics.readings}-committed`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.setOffsets({
        groupId,
        topic: topics.readings,
        partitions: [
          { partition: 0, offset: '5' },
          { partition: 2, offset: '7' },
        ],
      });
      // when asked both ways, the second time through the admin kept by the caller
      const own = await committedMessages(kafka, groupId, topics.readings);
      const kept = await committedMessages(admin, groupId, topics.readings);
      // then both count 12, and the caller's admin is still connected for the next sample
      expect(own).toBe(12);
      expect(kept).toBe(12);
      expect(await committedMessages(admin, groupId, topics.readings)).toBe(12);
    } finally {
      await admin.disconnect();
    }
  });
});
