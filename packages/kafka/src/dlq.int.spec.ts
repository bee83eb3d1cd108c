import { afterAll, describe, expect, it } from 'vitest';
import { testTopics, isolatedConfig } from '../../../test/support.ts';
import { readDlq } from '../../../test/cleanup.ts';
import { DeadLetterWriter, topicMaxMessageBytes } from './index.ts';
import type { DeadLetter } from './index.ts';

const { kafka, topics, remove } = await testTopics('dlq-writer');
const prefix = topics.readings.replace(/readings$/, '');

afterAll(async () => {
  await remove();
});

const letter = (offset: string): DeadLetter => ({
  message: {
    key: Buffer.from('plug-1'),
    value: Buffer.from('{"not": "an event"}'),
    timestamp: String(Date.now()),
    attributes: 0,
    offset,
    headers: {},
  },
  topic: topics.readings,
  partition: 0,
  reason: 'not an event',
  stage: 'decode',
});

describe('the dead-letter writer on the real Kafka', () => {
  it('writes a message it has dead-lettered once, however often its batch is redone', async () => {
    // given a group's writer
    const writer = new DeadLetterWriter(kafka, `${prefix}group-redo`, topics.dlq, () =>
      topicMaxMessageBytes(kafka, topics.dlq),
    );
    try {
      // when a batch's letters are written, and the batch is redone (its sink failed after)
      // with the same letters and one more
      await writer.write([letter('7')], [{ topic: topics.readings, partition: 0, offset: '8' }]);
      await writer.write([letter('7')], [{ topic: topics.readings, partition: 0, offset: '8' }]);
      await writer.write([letter('7'), letter('9')]);
    } finally {
      await writer.close();
    }
    // then each message is in the DLQ once
    const letters = await readDlq(isolatedConfig({ GS_TOPIC_PREFIX: prefix }));
    expect(letters.map((l) => l.headers['x-source-offset'])).toEqual(['7', '9']);
  });
});
