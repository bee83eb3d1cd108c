import kafkajs from 'kafkajs';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicRetention } from '@gridstream/config';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { createKafka, ensureTopics, kafkaSettings, topicNames } from './index.ts';
import type { TopicNames } from './index.ts';

const config = isolatedConfig({
  GS_RETENTION_GATEWAY_TOPIC_MS: String(2 * 86_400_000),
  GS_RETENTION_DLQ_TOPIC_MS: String(3 * 86_400_000),
});
const names = topicNames(config.GS_TOPIC_PREFIX);
const kafka = createKafka(kafkaSettings(config, 'test-topic-retention'));
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.deleteTopics({ topics: Object.values(names) }).catch(() => undefined);
  await admin.disconnect();
});

/**
 * The broker's view once it has what `expected` names: a KRaft broker applies a topic's new
 * configuration from the metadata log a moment after AlterConfigs is answered, so a read right
 * after may still see the old (it did, once, in a run of the whole int suite).
 */
async function brokerConfigOnce(
  topics: TopicNames,
  configName: string,
  expected: Partial<Record<keyof TopicNames, string>>,
): Promise<Map<string, string>> {
  return eventually(`${configName} of ${JSON.stringify(expected)} on the broker`, async () => {
    const values = await brokerConfig(topics, configName);
    const entries = Object.entries(expected) as [keyof TopicNames, string][];
    return entries.every(([role, value]) => values.get(topics[role]) === value)
      ? values
      : undefined;
  });
}

/** The broker's own view of each topic's configuration, read back after every step. */
async function brokerConfig(topics: TopicNames, configName: string): Promise<Map<string, string>> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: Object.values(topics).map((name) => ({
      type: kafkajs.ConfigResourceTypes.TOPIC,
      name,
    })),
  });
  return new Map(
    described.resources.map((r) => [
      r.resourceName,
      r.configEntries.find((e) => e.configName === configName)?.configValue ?? '(none)',
    ]),
  );
}

describe("topics' retention on the real Kafka", () => {
  it('creates topics with the configured retention, and brings existing ones to a changed one', async () => {
    // given our topics created as a command-line tool creates them (no retention: kept for ever)
    await ensureTopics(admin, names, 1);
    expect(new Set((await brokerConfig(names, 'retention.ms')).values())).toEqual(new Set(['-1']));

    // when a service starts with the configured retention
    await ensureTopics(admin, names, 1, topicRetention(config));

    // then the topics that already existed have it: gateway and dlq bounded, the rest unlimited
    const retention = await brokerConfigOnce(names, 'retention.ms', {
      gateway: String(2 * 86_400_000),
    });
    expect(retention.get(names.gateway)).toBe(String(2 * 86_400_000));
    expect(retention.get(names.dlq)).toBe(String(3 * 86_400_000));
    for (const role of ['readings', 'devices', 'commands', 'alerts', 'energy'] as const)
      expect(retention.get(names[role])).toBe('-1');
    // and the other overrides of the topics survived the change (AlterConfigs replaces them all)
    const timestamps = await brokerConfig(names, 'message.timestamp.type');
    expect(new Set(timestamps.values())).toEqual(new Set(['LogAppendTime']));

    // when the setting changes and a service starts again
    await ensureTopics(admin, names, 1, {
      ...topicRetention(config),
      readings: 5 * 86_400_000,
      dlq: -1,
    });
    // then the broker has the new values
    const changed = await brokerConfigOnce(names, 'retention.ms', {
      readings: String(5 * 86_400_000),
    });
    expect(changed.get(names.readings)).toBe(String(5 * 86_400_000));
    expect(changed.get(names.dlq)).toBe('-1');
    expect(changed.get(names.gateway)).toBe(String(2 * 86_400_000));
  });

  it('creates a missing topic with its retention at once', async () => {
    // given a prefix nobody has used
    const fresh = topicNames(`${config.GS_TOPIC_PREFIX}fresh-`);
    try {
      // when a service creates the topics
      await ensureTopics(admin, fresh, 1, topicRetention(isolatedConfig()));
      // then the defaults: gateway 7 days, dlq 30 days, the others unlimited
      const retention = await brokerConfig(fresh, 'retention.ms');
      expect(retention.get(fresh.gateway)).toBe(String(7 * 86_400_000));
      expect(retention.get(fresh.dlq)).toBe(String(30 * 86_400_000));
      expect(retention.get(fresh.readings)).toBe('-1');
    } finally {
      await admin.deleteTopics({ topics: Object.values(fresh) });
    }
  });
});
