import { describe, expect, it } from 'vitest';
import { isolatedConfig, uniqueSuffix } from '../../../test/support.ts';
import { createKafka, ensureTopics, kafkaSettings, topicNames } from './index.ts';

describe('topics on the real Kafka', () => {
  it('are ready to read for every service that raced to create them', async () => {
    // given four services starting together, each with its own admin client
    const kafka = createKafka(kafkaSettings(isolatedConfig(), 'test-topics'));
    const names = topicNames(`test-topics-${uniqueSuffix()}.`);
    const admins = Array.from({ length: 4 }, () => kafka.admin());
    await Promise.all(admins.map((admin) => admin.connect()));
    try {
      // when they all ensure the same topics at once (all but one lose the creation race)
      await Promise.all(admins.map((admin) => ensureTopics(admin, names, 3)));
      // then each of them can read every partition's offsets at once, with no retry of its own
      for (const admin of admins) {
        for (const topic of Object.values(names)) {
          const offsets = await admin.fetchTopicOffsets(topic);
          expect(offsets.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
        }
      }
    } finally {
      await admins[0]?.deleteTopics({ topics: Object.values(names) });
      await Promise.all(admins.map((admin) => admin.disconnect()));
    }
  });
});
