import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { IHeaders } from 'kafkajs';
import { consumeFromStart, testTopics } from '../../../test/support.ts';

const { kafka, topics, remove } = await testTopics('kafkajs-patch', 1);

afterAll(async () => {
  await remove();
});

describe('record batches through the patched kafkajs encoder (patches/kafkajs@2.2.4.patch)', () => {
  it('is accepted by the broker, which checks the CRC-32C, and every record comes back as sent', async () => {
    // given records of many sizes (so the checksum's 8-byte steps meet every tail length), with
    // multi-byte header keys and values, repeated header keys, binary values and no key
    const sent = Array.from({ length: 300 }, (_, i) => ({
      key: i % 7 === 0 ? null : `device-${i}`,
      value: i % 2 === 0 ? randomBytes(i * 13) : `{"n":${i},"text":"Zähler ${'€'.repeat(i % 50)}"}`,
      headers: {
        ce_id: `id-${i}`,
        [`clé-${i % 3}`]: 'wärme'.repeat(i % 40),
        ...(i % 5 === 0 ? { trace: ['a', `b${i}`, randomBytes(i % 11).toString('hex')] } : {}),
      },
    }));

    // when they are produced in one batch and consumed
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.devices, messages: sent });
    await producer.disconnect();
    const received = await consumeFromStart(kafka, topics.devices, sent.length);

    // then each record is as sent: key, value bytes and every header
    const text = (value: IHeaders[string]) =>
      Array.isArray(value) ? value.map((v) => v.toString()) : value?.toString();
    expect(received).toHaveLength(sent.length);
    received.forEach((message, i) => {
      const expected = sent[i];
      if (expected === undefined) throw new Error(`record ${i} was not sent`);
      expect(message.key?.toString() ?? null).toBe(expected.key);
      expect(message.value?.equals(Buffer.from(expected.value))).toBe(true);
      expect(Object.keys(message.headers ?? {}).sort()).toEqual(
        Object.keys(expected.headers).sort(),
      );
      for (const [name, value] of Object.entries(expected.headers))
        expect(text(message.headers?.[name])).toEqual(value);
    });
  });
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

describe('admin.commitGroupOffsets of the patched kafkajs (patches/kafkajs@2.2.4.patch)', () => {
  it('commits a group that has no members without joining it, and a member then starts there', async () => {
    // given a topic with ten records
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.energy,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `record ${i}` })),
    });
    await producer.disconnect();
    const groupId = `${topics.energy}.handover`;

    // when offset 7 is committed for a group nobody has joined
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.commitGroupOffsets({
        groupId,
        topics: [{ topic: topics.energy, partitions: [{ partition: 0, offset: '7' }] }],
      });
      // then the group holds it
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.energy] });
      expect(committed?.partitions).toEqual([{ partition: 0, offset: '7', metadata: null }]);
    } finally {
      await admin.disconnect();
    }
    // and a member of the group starts from it
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const seen: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: topics.energy, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push(message.value?.toString() ?? '');
          return Promise.resolve();
        },
      });
      const deadline = Date.now() + 30_000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(['record 7', 'record 8', 'record 9']);
  });
});

describe('the start of a group join (patches/kafkajs@2.2.4.patch, GROUP_JOIN_START)', () => {
  it('is reported before the JoinGroup is sent, and the join after it', async () => {
    // given a consumer that records its events in order
    const consumer = kafka.consumer({ groupId: `kafkajs-patch-join-${Date.now()}` });
    const seen: string[] = [];
    consumer.on(consumer.events.GROUP_JOIN_START, ({ payload }) => {
      seen.push(`start ${payload.memberId ?? ''}`);
    });
    consumer.on(consumer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'JoinGroup') seen.push('JoinGroup answered');
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      seen.push('joined');
    });
    // when it joins its group
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.readings] });
    await consumer.run({ eachMessage: async () => {} });
    await consumer.disconnect();
    // then the start came first, before the member had an id (a JoinGroup with none may be
    // answered MEMBER_ID_REQUIRED and sent again, within the same join)
    expect(seen[0]).toBe('start ');
    expect(seen.filter((e) => e.startsWith('start'))).toHaveLength(1);
    expect(seen.at(-1)).toBe('joined');
    expect(seen).toContain('JoinGroup answered');
  });
});

describe('work before a group join (patches/kafkajs@2.2.4.patch, beforeJoin)', () => {
  it('is awaited before each JoinGroup, so nobody is given the partitions until it ends', async () => {
    // given a member whose work before a rejoin takes 2 s, in a group of its own
    const groupId = `kafkajs-patch-before-join-${Date.now()}`;
    const seen: string[] = [];
    const first = kafka.consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
    let joins = 0;
    let rejoined: () => void = () => undefined;
    const firstRejoined = new Promise<void>((resolve) => (rejoined = resolve));
    first.on(first.events.GROUP_JOIN, () => {
      seen.push('first joined');
      if (joins > 1) rejoined();
    });
    await first.connect();
    await first.subscribe({ topics: [topics.readings] });
    await first.run({
      eachMessage: async () => {},
      beforeJoin: async () => {
        joins++;
        if (joins === 1) return;
        seen.push('first rejoining');
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        seen.push('first done');
      },
    });
    const second = kafka.consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
    second.on(second.events.GROUP_JOIN, () => {
      seen.push('second joined');
    });
    try {
      // when a second member joins the group
      const joined = new Promise<number>((resolve) => {
        second.on(second.events.GROUP_JOIN, () => {
          resolve(Date.now());
        });
      });
      const asked = Date.now();
      await second.connect();
      await second.subscribe({ topics: [topics.readings] });
      await second.run({ eachMessage: async () => {} });
      const took = (await joined) - asked;
      await firstRejoined;

      // then the first member's work ended before either member was given its partitions
      expect(seen.slice(0, 3)).toEqual(['first joined', 'first rejoining', 'first done']);
      expect(seen.slice(3).sort()).toEqual(['first joined', 'second joined']);
      expect(took).toBeGreaterThanOrEqual(2_000);
    } finally {
      await second.disconnect();
      await first.disconnect();
    }
  });
});
