import { describe, expect, it } from 'vitest';
import { retentionChanges, topicNames } from './topics.ts';
import type { TopicRetention } from './topics.ts';

const names = topicNames('t.');
const keepAll: TopicRetention = {
  readings: -1,
  devices: -1,
  commands: -1,
  gateway: -1,
  alerts: -1,
  energy: -1,
  market: -1,
  dlq: -1,
};

describe('retentionChanges', () => {
  it('alters nothing when every topic has its retention already', () => {
    // given every topic with the retention asked for
    const overrides = new Map(
      Object.values(names).map((t) => [t, new Map([['retention.ms', '-1']])]),
    );
    // then no topic is altered
    expect(retentionChanges(names, keepAll, overrides)).toEqual([]);
  });

  it("alters only the topics that differ, keeping each one's other overrides", () => {
    // given the dlq with a timestamp type and an operator's max.message.bytes, kept for ever
    const overrides = new Map(
      Object.values(names).map((t) => [t, new Map([['retention.ms', '-1']])]),
    ).set(
      names.dlq,
      new Map([
        ['retention.ms', '-1'],
        ['message.timestamp.type', 'LogAppendTime'],
        ['max.message.bytes', '2097152'],
      ]),
    );
    // when the dlq is to keep 30 days
    const changes = retentionChanges(names, { ...keepAll, dlq: 2_592_000_000 }, overrides);
    // then the dlq alone is altered, with all of its overrides and the new retention
    expect(changes).toEqual([
      {
        topic: 't.dlq',
        configEntries: [
          { name: 'retention.ms', value: '2592000000' },
          { name: 'message.timestamp.type', value: 'LogAppendTime' },
          { name: 'max.message.bytes', value: '2097152' },
        ],
      },
    ]);
  });

  it('sets the retention of a topic that had no override of it', () => {
    // given a topic that keeps the broker's default retention (7 days) and has no overrides
    const changes = retentionChanges(names, keepAll, new Map());
    // then every topic gets its retention.ms
    expect(changes.map((c) => c.topic)).toEqual(Object.values(names));
    expect(changes[0]?.configEntries).toEqual([{ name: 'retention.ms', value: '-1' }]);
  });
});
