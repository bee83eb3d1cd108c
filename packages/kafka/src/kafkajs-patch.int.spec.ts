import { afterAll, describe, expect, it } from 'vitest';
import type { IHeaders } from 'kafkajs';
import { testTopics } from '../../../test/support.ts';

const { kafka, topics, remove } = await testTopics('kafkajs-patch', 1);

afterAll(async () => {
  await remove();
});

describe('record headers through the patched kafkajs decoder (patches/kafkajs@2.2.4.patch)', () => {
  it('keeps every header, a repeated key as a list, and __proto__ as a plain header', async () => {
    // given a record with the CloudEvents headers, a key sent twice and a key named __proto__
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.readings,
      messages: [
        {
          key: 'k',
          value: 'v',
          headers: {
            ce_id: 'id-1',
            ce_type: 'gridstream.reading.reported.v1',
            trace: ['a', 'b', 'c'],
            ['__proto__']: 'not a prototype',
          },
        },
      ],
    });
    await producer.disconnect();

    // when it is consumed
    const consumer = kafka.consumer({ groupId: `${topics.readings}.patch-check` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.readings, fromBeginning: true });
    const headers = await new Promise<IHeaders>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          resolve(message.headers ?? {});
        },
      });
    });
    await consumer.disconnect();

    // then each header is there once, as sent
    const text = (value: IHeaders[string]) =>
      Array.isArray(value) ? value.map((v) => v.toString()) : value?.toString();
    expect(text(headers['ce_id'])).toBe('id-1');
    expect(text(headers['ce_type'])).toBe('gridstream.reading.reported.v1');
    expect(text(headers['trace'])).toEqual(['a', 'b', 'c']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers).sort()).toEqual(['__proto__', 'ce_id', 'ce_type', 'trace']);
    const own = Object.getOwnPropertyDescriptor(headers, '__proto__')?.value as IHeaders[string];
    expect(text(own)).toBe('not a prototype');
  });
});
