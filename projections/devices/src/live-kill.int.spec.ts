import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  committedMessages,
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { buildGroupId } from '@gridstream/projection';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { expectDocumentsFolded } from './folded-documents.fixture.ts';
import { startDevicesProjection } from './run.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'acme';

function events(): GridstreamEvent[] {
  const out: GridstreamEvent[] = [];
  for (let d = 0; d < 30; d++) {
    const deviceId = `dev-${d}`;
    const base = { source: 'test', subject: deviceId, tenant };
    out.push({
      ...base,
      id: `01930000-0000-7000-8001-${String(out.length).padStart(12, '0')}`,
      time: '2026-11-24T00:00:00Z',
      type: EventType.deviceRegistered,
      data: {
        deviceId,
        siteId: `site-${d % 4}`,
        kind: 'smart_plug',
        role: 'consumer',
        name: deviceId,
        timeZone: 'UTC',
      },
    });
    for (let i = 0; i < 60; i++) {
      out.push({
        ...base,
        id: `01930000-0000-7000-8001-${String(out.length).padStart(12, '0')}`,
        time: new Date(Date.UTC(2026, 10, 24, 1, i, (d * 7 + i) % 60)).toISOString(),
        type: EventType.readingReported,
        data: { deviceId, powerW: d * 100 + i, quality: 'good' },
      });
    }
    if (d % 5 === 0) {
      out.push({
        ...base,
        id: `01930000-0000-7000-8001-${String(out.length).padStart(12, '0')}`,
        time: '2026-11-24T02:00:00Z',
        type: EventType.deviceDecommissioned,
        data: { deviceId },
      });
    }
  }
  return out;
}

describe('the live devices projection on the real Kafka and MongoDB', () => {
  it('loses nothing and applies nothing twice when killed with -9 part-way', async () => {
    // given a live projection in its own process, with small batches, and a history to fold
    const kafka = createKafka(kafkaSettings(config, 'test-live-kill'));
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
        GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
        GS_MONGO_URL: config.GS_MONGO_URL,
        GS_MONGO_DB: config.GS_MONGO_DB,
        GS_PROJECTION_FETCH_BYTES: '4096',
      },
      stdio: 'ignore',
    });
    const history = events();
    // (half of it first, so the kill cannot come after all of it was applied however fast the
    // child is; the rest after the kill)
    const half = Math.floor(history.length / 2);
    await publisher.publish(history.slice(0, half));
    // when it is killed with SIGKILL once it has committed part of the log
    const group = buildGroupId(config.GS_TOPIC_PREFIX, 'devices', 'v2');
    const partial = await eventually(
      'part of the readings committed',
      async () => {
        const done = await committedMessages(kafka, group, topics.readings);
        return done > 0 ? done : undefined;
      },
      60_000,
      20,
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(partial).toBeLessThan(history.length);
    await publisher.publish(history.slice(half));
    // and a new one takes over
    const live = await startDevicesProjection(config, { lagLogIntervalMs: 0 });
    stopAfterAll(() => live.stop());
    await eventually(
      'caught up',
      async () => ((await live.lag()) === 0 ? true : undefined),
      90_000,
      250,
    );
    // then every document is the fold of its device's events, each applied once, in order
    await expectDocumentsFolded(config, history);
  }, 120_000);
});
