import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { GridstreamError } from '@gridstream/errors';
import { CeHeader, encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, testTopics } from '../../../test/support.ts';
import { registrationRecord } from '../../../test/event-versions.ts';
import {
  DeadLetterWriter,
  findLetterById,
  findLetters,
  readTopicToEnd,
  RedriveHeader,
  redriveLetters,
  runEventConsumer,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from './index.ts';
import type { RunningConsumer, StoredLetter } from './index.ts';

// Dead letters on the real Kafka: listed with filters, redriven once for the group that could
// not use them (the other groups do not see them again), never twice, not even by two at once.
const { kafka, topics, remove } = await testTopics('dead-letters');
const prefix = topics.readings.replace(/readings$/, '');
const sources = new Set(Object.values(topics));
let producer: Producer;
const running: RunningConsumer[] = [];

function reading(n: number, tenant = 'acme') {
  const deviceId = 'plug-1';
  return {
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'test',
    subject: deviceId,
    time: new Date(Date.now() - 60_000 + n).toISOString(),
    tenant,
    data: { deviceId, powerW: n, quality: 'good' },
  } satisfies GridstreamEvent;
}

/** Handled events by group: id -> times handled. */
const handled = { picky: new Map<string, number>(), easy: new Map<string, number>() };
/** The events the picky group refuses as poison, until told otherwise. */
const refusedByPicky = new Set<string>();

async function start(group: 'picky' | 'easy') {
  running.push(
    await runEventConsumer({
      kafka,
      groupId: `${prefix}${group}`,
      topics: [topics.readings],
      dlqTopic: topics.dlq,
      handle: async (events) => {
        for (const { event } of events)
          if (group === 'picky' && refusedByPicky.has(event.id))
            throw new GridstreamError('POISON_MESSAGE', `picky refuses ${event.id}`);
        for (const { event } of events)
          handled[group].set(event.id, (handled[group].get(event.id) ?? 0) + 1);
      },
    }),
  );
}

const redriveRecords = async () =>
  (await readTopicToEnd(kafka, topics.dlq)).filter((m) => m.headers?.[RedriveHeader.of]);

const ids = (letters: readonly StoredLetter[]) => letters.map((l) => l.id);

/** Dead-letters reading(n), as if read at offset n of readings partition 0, by its own writer. */
async function writeLetterOf(group: string, n: number, reason: string) {
  const writer = new DeadLetterWriter(kafka, group, topics.dlq, () => Promise.resolve(1_000_000));
  const record = encodeEvent(reading(n));
  try {
    await writer.write([
      {
        message: {
          key: Buffer.from(record.key),
          value: Buffer.from(record.value),
          headers: record.headers,
          timestamp: String(Date.now()),
          attributes: 0,
          offset: String(n),
        },
        topic: topics.readings,
        partition: 0,
        reason,
        stage: 'process',
      },
    ]);
  } finally {
    await writer.close();
  }
}

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  await start('picky');
  await start('easy');
  // given good readings, one the picky group refuses, one of another tenant that is not JSON
  refusedByPicky.add(reading(2).id);
  const records = [1, 2, 3].map((n) => encodeEvent(reading(n)));
  const notJson = { ...encodeEvent(reading(4, 'other')), value: '{not json' };
  // (one partition, one request: the refused one is found in a batch with good ones)
  await producer.send({ topic: topics.readings, acks: -1, messages: [...records, notJson] });
  await eventually(
    'the letters and the handled readings',
    async () => {
      const { letters } = await findLetters(kafka, topics.dlq);
      expect(letters).toHaveLength(3);
      expect(handled.easy.size).toBe(3);
      expect(handled.picky.size).toBe(2);
      return true;
    },
    60_000,
  );
}, 90_000);

afterAll(async () => {
  for (const consumer of running) await consumer.stop();
  await producer.disconnect();
  await remove();
});

describe('dead letters on the real Kafka', () => {
  it('lists letters by group, stage, reason, tenant, source topic and time', async () => {
    const all = (await findLetters(kafka, topics.dlq)).letters;
    const picky = all.filter((l) => l.consumerGroup === `${prefix}picky`);
    expect(picky.map((l) => [l.stage, l.type, l.tenant])).toEqual(
      expect.arrayContaining([
        ['process', EventType.readingReported, 'acme'],
        ['decode', EventType.readingReported, 'other'],
      ]),
    );
    const byGroup = await findLetters(kafka, topics.dlq, { consumerGroup: `${prefix}easy` });
    expect(byGroup.letters.map((l) => l.reason)).toEqual([
      expect.stringMatching(/value is not JSON/),
    ]);
    expect(byGroup.scanned).toBe(3);
    const byReason = await findLetters(kafka, topics.dlq, { reason: 'PICKY REFUSES' });
    expect(byReason.letters.map((l) => [l.consumerGroup, l.source.topic, l.stage])).toEqual([
      [`${prefix}picky`, topics.readings, 'process'],
    ]);
    expect(byReason.letters[0]?.value?.toString()).toContain('"powerW":2');
    expect((await findLetters(kafka, topics.dlq, { tenant: 'other' })).letters).toHaveLength(2);
    expect((await findLetters(kafka, topics.dlq, { sourceTopic: 'readings' })).letters).toEqual(
      all,
    );
    expect((await findLetters(kafka, topics.dlq, { sourceTopic: 'devices' })).letters).toEqual([]);
    const later = new Date(Date.now() + 60_000);
    expect((await findLetters(kafka, topics.dlq, { since: later })).letters).toEqual([]);
    expect((await findLetters(kafka, topics.dlq, { until: later })).letters).toHaveLength(3);
    expect((await findLetters(kafka, topics.dlq, { stage: 'process' })).letters).toHaveLength(1);
  });

  it('redrives a letter for its own group only, records it, and never redrives it again', async () => {
    // given the picky group now takes the reading it refused
    const [letter] = (await findLetters(kafka, topics.dlq, { reason: 'picky refuses' })).letters;
    if (letter === undefined) throw new Error('no letter of the picky group');
    refusedByPicky.clear();
    // when it is redriven (for the group that dead-lettered it: the default)
    const outcome = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { ids: new Set([letter.id]) },
    );
    // then the picky group handles it once, the easy one (which had it) not again
    expect(outcome.redriven.map((r) => [r.letter, r.group, r.topic])).toEqual([
      [letter.id, `${prefix}picky`, topics.readings],
    ]);
    const id = reading(2).id;
    await eventually('the picky group to handle the redriven reading', async () =>
      handled.picky.get(id) === 1 ? true : undefined,
    );
    // and the record went back with its bytes, its headers and where it came from
    const copies = (await readTopicToEnd(kafka, topics.readings)).filter(
      (m) => m.headers?.[RedriveHeader.from] !== undefined,
    );
    expect(copies.map((m) => [m.value?.toString(), m.headers?.[CeHeader.id]?.toString()])).toEqual([
      [letter.value?.toString(), id],
    ]);
    expect(copies[0]?.headers?.[RedriveHeader.from]?.toString()).toBe(`${topics.dlq}/${letter.id}`);
    expect(copies[0]?.headers?.[RedriveHeader.group]?.toString()).toBe(`${prefix}picky`);
    // and the letter says so; asked again, it is refused, and nothing more is written
    const [after] = (await findLetters(kafka, topics.dlq, { ids: new Set([letter.id]) })).letters;
    expect(after?.redrive).toMatchObject({ letter: letter.id, group: `${prefix}picky` });
    // (read by its id alone, from its partition, it is the same, its redrive record included)
    expect(await findLetterById(kafka, topics.dlq, letter.id)).toEqual(after);
    const [partition] = letter.id.split('-');
    expect(await findLetterById(kafka, topics.dlq, `${partition}-999999`)).toBeUndefined();
    const again = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { ids: new Set([letter.id]) },
    );
    expect(again.redriven).toEqual([]);
    expect(again.refused.map((r) => r.letter)).toEqual([letter.id]);
    expect(again.refused[0]?.reason).toMatch(/^already redriven at /);
    expect(await redriveRecords()).toHaveLength(1);
    expect(ids((await findLetters(kafka, topics.dlq, { redriven: false })).letters)).not.toContain(
      letter.id,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(handled.easy.get(id)).toBe(1);
    expect(handled.picky.get(id)).toBe(1);
  });

  it('three redrives at once put each letter back once', async () => {
    // given the letters no one redrove yet (the undecodable one, of both groups)
    const pending = (await findLetters(kafka, topics.dlq, { redriven: false })).letters;
    expect(pending).toHaveLength(2);
    const before = (await readTopicToEnd(kafka, topics.readings)).length;
    // when three redrives of them run at once
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() => redriveLetters(kafka, { dlq: topics.dlq, sources }, { redriven: false })),
    );
    // then each letter was put back once, and has one record
    const done = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value.redriven : []));
    expect(done.map((r) => r.letter).sort()).toEqual(ids(pending).sort());
    expect((await readTopicToEnd(kafka, topics.readings)).length).toBe(before + 2);
    expect(await redriveRecords()).toHaveLength(3);
    // and each copy is dead-lettered again by its own group only (it is still not JSON)
    await eventually(
      'the copies dead-lettered again',
      async () => {
        const letters = (await findLetters(kafka, topics.dlq, { reason: 'not JSON' })).letters;
        expect(letters).toHaveLength(4);
        expect(
          letters
            .filter((l) => l.headers[RedriveHeader.from] !== undefined)
            .map((l) => l.consumerGroup)
            .sort(),
        ).toEqual([`${prefix}easy`, `${prefix}picky`]);
        return true;
      },
      30_000,
    );
  });

  it('refuses a letter cut to fit the DLQ, and one that cannot be upcast', async () => {
    // given a letter cut to fit a small limit, and an undecodable one
    const writer = new DeadLetterWriter(kafka, `${prefix}cut`, topics.dlq, () =>
      Promise.resolve(4_000),
    );
    try {
      await writer.write([
        {
          message: {
            key: Buffer.from('plug-1'),
            value: Buffer.from('x'.repeat(10_000)),
            timestamp: String(Date.now()),
            attributes: 0,
            offset: '99',
            headers: {},
          },
          topic: topics.readings,
          partition: 0,
          reason: 'too long',
          stage: 'decode',
        },
      ]);
    } finally {
      await writer.close();
    }
    // when both are asked for, the second through the upcasters
    const cut = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { consumerGroup: `${prefix}cut` },
    );
    const [copy] = (await findLetters(kafka, topics.dlq, { reason: 'not JSON', redriven: false }))
      .letters;
    if (copy === undefined) throw new Error('no letter of the redriven copy');
    const upcast = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { ids: new Set([copy.id]) },
      { upcast: true },
    );
    // then neither is put back, each with why
    expect(cut.redriven).toEqual([]);
    expect(cut.refused).toHaveLength(1);
    expect(cut.refused[0]?.reason).toMatch(
      /value was cut to fit the DLQ \(the original was 10000 bytes, sha256 [0-9a-f]{64}\)/,
    );
    expect(upcast.redriven).toEqual([]);
    expect(upcast.refused.map((r) => r.letter)).toEqual([copy.id]);
    expect(upcast.refused[0]?.reason).toMatch(/^cannot be upcast: value is not JSON/);
  });

  it('redrives a v1 event through the upcasters as v2, keeping its trace context', async () => {
    // given a letter of a v1 registration (a consumer that did not know v1 dead-lettered it)
    const v1 = registrationRecord(
      {
        id: '00000000-0000-7000-8000-0000000000aa',
        source: 'test',
        subject: 'meter-9',
        time: new Date().toISOString(),
        tenant: 'acme',
      },
      {
        deviceId: 'meter-9',
        siteId: 'home',
        kind: 'meter',
        role: 'grid',
        name: 'Meter',
        timeZone: 'Europe/Berlin',
        ratedPowerW: 11_000,
        counterWrapWh: 1_000_000,
      },
      'v1',
    );
    const writer = new DeadLetterWriter(kafka, `${prefix}old`, topics.dlq, () =>
      Promise.resolve(1_000_000),
    );
    try {
      await writer.write([
        {
          message: {
            key: Buffer.from(v1.key),
            value: Buffer.from(v1.value),
            // the trace context as the publisher writes it (CloudEvents binary mode)
            headers: {
              ...v1.headers,
              [TRACEPARENT_HEADER]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
              [TRACESTATE_HEADER]: 'gs=1',
            },
            timestamp: String(Date.now()),
            attributes: 0,
            offset: '5',
          },
          topic: topics.devices,
          partition: 1,
          reason: 'unknown event type gridstream.device.registered.v1',
          stage: 'decode',
        },
      ]);
    } finally {
      await writer.close();
    }
    // when it is redriven through the upcasters (forced: the old consumer's group is gone)
    const outcome = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { consumerGroup: `${prefix}old` },
      { upcast: true, force: true },
    );
    // then the devices topic has it as v2 on its partition, the rating in its nameplate
    expect(outcome.redriven.map((r) => [r.topic, r.partition, r.upcast])).toEqual([
      [topics.devices, 1, true],
    ]);
    const [copy] = (await readTopicToEnd(kafka, topics.devices)).filter(
      (m) => m.headers?.[RedriveHeader.from] !== undefined,
    );
    expect(copy?.headers?.[CeHeader.type]?.toString()).toBe(EventType.deviceRegistered);
    expect(JSON.parse(copy?.value?.toString() ?? '{}')).toMatchObject({
      deviceId: 'meter-9',
      nameplate: { ratedPowerW: 11_000, counterWrapWh: 1_000_000 },
    });
    expect(copy?.headers?.[TRACEPARENT_HEADER]?.toString()).toBe(
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
    expect(copy?.headers?.[TRACESTATE_HEADER]?.toString()).toBe('gs=1');
    expect(copy?.headers?.[CeHeader.id]?.toString()).toBe('00000000-0000-7000-8000-0000000000aa');
  });

  it('refuses a letter for a group that does not read its topic, and puts it back with force', async () => {
    // given a letter of a projection build's group that a rebuild has since deleted
    const gone = `${prefix}projection.devices.v1-20261205093000`;
    await writeLetterOf(gone, 7, 'rebuilt since');
    const [letter] = (await findLetters(kafka, topics.dlq, { consumerGroup: gone })).letters;
    if (letter === undefined) throw new Error('no letter of the deleted group');
    const recordsBefore = (await redriveRecords()).length;
    const copiesOnReadings = async () =>
      (await readTopicToEnd(kafka, topics.readings)).filter(
        (m) => m.headers?.[RedriveHeader.from]?.toString() === `${topics.dlq}/${letter.id}`,
      );
    // when it is redriven for its group (the default)
    const refused = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { ids: new Set([letter.id]) },
    );
    // then it is refused, naming the group and the groups that do read the topic
    expect(refused.redriven).toEqual([]);
    expect(refused.refused).toEqual([
      {
        letter: letter.id,
        reason: expect.stringContaining(
          `consumer group ${gone} has no committed offsets on ${topics.readings}`,
        ) as string,
      },
    ]);
    expect(refused.refused[0]?.reason).toContain(
      `--to-group G (groups reading it now: ${prefix}easy, ${prefix}picky)`,
    );
    // and it is not marked redriven, and nothing went back
    const [after] = (await findLetters(kafka, topics.dlq, { ids: new Set([letter.id]) })).letters;
    expect(after?.redrive).toBeUndefined();
    expect(await redriveRecords()).toHaveLength(recordsBefore);
    expect(await copiesOnReadings()).toEqual([]);

    // when a group with a member subscribed to the topic but nothing committed is the target
    const fresh = kafka.consumer({ groupId: `${prefix}fresh`, maxWaitTimeInMs: 100 });
    await fresh.connect();
    try {
      const joined = new Promise((resolve) => fresh.on(fresh.events.GROUP_JOIN, resolve));
      await fresh.subscribe({ topic: topics.readings });
      await fresh.run({ autoCommit: false, eachMessage: () => Promise.resolve() });
      await joined;
      const toFresh = await redriveLetters(
        kafka,
        { dlq: topics.dlq, sources },
        { ids: new Set([letter.id]) },
        { group: `${prefix}fresh`, dryRun: true },
      );
      // then it would go (the group is reading the topic now)
      expect(toFresh.redriven.map((r) => r.group)).toEqual([`${prefix}fresh`]);
      expect(toFresh.refused).toEqual([]);
    } finally {
      await fresh.disconnect();
    }

    // when it is forced
    const forced = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { ids: new Set([letter.id]) },
      { force: true },
    );
    // then it goes back for that group, and is recorded
    expect(forced.redriven.map((r) => [r.letter, r.group])).toEqual([[letter.id, gone]]);
    const [copy] = await copiesOnReadings();
    expect(copy?.headers?.[RedriveHeader.group]?.toString()).toBe(gone);
    expect(await redriveRecords()).toHaveLength(recordsBefore + 1);
  });

  it('takes a letter written twice as one letter: listed, shown and redriven once', async () => {
    // given one message dead-lettered twice by one group: two writers, as when a Kafka node dies
    // while the first's transaction completes and the answer never reaches it
    const twice = `${prefix}twice`;
    await writeLetterOf(twice, 60, 'written twice');
    await writeLetterOf(twice, 60, 'written twice');
    // when the group's letters are listed
    const listed = await findLetters(kafka, topics.dlq, { consumerGroup: twice });
    // then it is one letter, naming its copy
    expect(listed.letters).toHaveLength(1);
    const [first] = listed.letters;
    if (first === undefined) throw new Error('no letter of the group');
    expect(first.copies).toHaveLength(1);
    const [second = ''] = first.copies;
    expect(second).not.toBe(first.id);
    // (read by id, each record is the letter; the first knows of the copy after it)
    expect((await findLetterById(kafka, topics.dlq, first.id))?.copies).toEqual([second]);
    const byCopy = await findLetters(kafka, topics.dlq, { ids: new Set([second]) });
    expect(byCopy.letters.map((l) => [l.id, l.copies])).toEqual([[second, [first.id]]]);
    // when every letter of the group is redriven
    const before = (await readTopicToEnd(kafka, topics.readings)).length;
    const outcome = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { consumerGroup: twice },
      { force: true },
    );
    // then it went back once
    expect(outcome.redriven.map((r) => r.letter)).toEqual([first.id]);
    expect((await readTopicToEnd(kafka, topics.readings)).length).toBe(before + 1);
    // and asked for by its copy's id, it is redriven already
    const again = await redriveLetters(
      kafka,
      { dlq: topics.dlq, sources },
      { ids: new Set([second]) },
      { force: true },
    );
    expect(again.redriven).toEqual([]);
    expect(again.refused[0]?.reason).toMatch(/^already redriven at /);
    expect((await readTopicToEnd(kafka, topics.readings)).length).toBe(before + 1);
  });
});
