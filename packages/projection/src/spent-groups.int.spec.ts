import { afterAll, describe, expect, it } from 'vitest';
import { testTopics } from '../../../test/support.ts';
import { deleteSpentGroups } from './build-parts.ts';

// A rebuild deletes its parts' consumer groups when it is done, on the real Kafka. After Kafka
// nodes were killed, the three-broker fault run saw the coordinator answer GROUP_ID_NOT_FOUND
// for one of them, and the whole rebuild failed on that tidying.
const { kafka, topics, remove } = await testTopics('spent-groups', 1);
const admin = kafka.admin();
await admin.connect();
afterAll(async () => {
  await admin.disconnect();
  await remove();
});

describe("deleting a rebuild's spent part groups", () => {
  it('deletes the groups there are, and takes a group the coordinator does not know as gone', async () => {
    const known = `${topics.readings}.part-0-of-2`;
    const unknown = `${topics.readings}.part-1-of-2`;
    await admin.setOffsets({
      groupId: known,
      topic: topics.readings,
      partitions: [{ partition: 0, offset: '0' }],
    });
    // what the rebuild did before: Kafka refuses the whole request for the unknown group
    await expect(admin.deleteGroups([unknown])).rejects.toMatchObject({
      groups: [{ groupId: unknown, error: { type: 'GROUP_ID_NOT_FOUND' } }],
    });
    await expect(deleteSpentGroups(admin, [known, unknown])).resolves.toBeUndefined();
    const { groups } = await admin.listGroups();
    expect(groups.map((group) => group.groupId)).not.toContain(known);
  });
});
