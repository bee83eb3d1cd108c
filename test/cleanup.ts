import { afterAll } from 'vitest';
import { createKafka, kafkaSettings, readTopicToEnd, topicNames } from '@gridstream/kafka';
import type { KafkaConfig, TopicRole } from '@gridstream/kafka';
import type { Config } from '@gridstream/config';
import { dropRunData, namesOf } from '../packages/cli/src/bench/cleanup.ts';

/**
 * Removes what a test created on the shared servers: every topic, QuestDB table and view, and
 * MongoDB database named with its prefixes (the benches' clean-up, by the test's names).
 */
export async function dropTestData(config: Config): Promise<void> {
  await dropRunData(config, namesOf(config));
}

export interface Letter {
  readonly value: string;
  readonly headers: Record<string, string>;
}

/** Reads the whole DLQ topic of this config from the start. */
export function readDlq(config: KafkaConfig & Pick<Config, 'GS_TOPIC_PREFIX'>): Promise<Letter[]> {
  return readTopic(config, 'dlq');
}

/** Reads every message of one of this config's topics, from the start, in partition order. */
export async function readTopic(
  config: KafkaConfig & Pick<Config, 'GS_TOPIC_PREFIX'>,
  role: TopicRole,
): Promise<Letter[]> {
  const kafka = createKafka(kafkaSettings(config, `test-${role}-reader`));
  const topic = topicNames(config.GS_TOPIC_PREFIX)[role];
  return (await readTopicToEnd(kafka, topic)).map((message) => ({
    value: message.value?.toString('utf8') ?? '',
    headers: Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
    ),
  }));
}

/**
 * What a suite started, stopped after all its tests in the order added, then its data removed:
 * `const stopAfterAll = teardown(config); stopAfterAll(() => api.close());`.
 */
export function teardown(config: Config): (stop: () => Promise<void>) => void {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
    await dropTestData(config);
  });
  return (stop) => {
    stops.push(stop);
  };
}
