import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { BuildRegistry, rebuildProjection } from '@gridstream/projection';
import { isolatedConfig, registration } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { devicesProjection } from './store.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);

/** Five devices, a registration and a reading each. */
function history(): GridstreamEvent[] {
  return Array.from({ length: 5 }, (_, d): GridstreamEvent[] => [
    registration('acme', { deviceId: `dev-${d}`, siteId: 'site-1' }),
    {
      id: `01930000-0000-7000-8004-${String(d).padStart(12, '0')}`,
      type: EventType.readingReported,
      source: 'test',
      subject: `dev-${d}`,
      time: '2026-11-24T00:01:00Z',
      tenant: 'acme',
      data: { deviceId: `dev-${d}`, powerW: 10 * d, quality: 'good' },
    },
  ]).flat();
}

describe('a rebuild with no live service running', () => {
  it('switches readers without waiting for a service to move, and drops the build it replaced', async () => {
    // given a log, and a build made by a first rebuild that no live service serves
    const kafka = createKafka(kafkaSettings(config, 'test-unserved'));
    const names = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, names, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, names);
    stopAfterAll(() => publisher.disconnect());
    await publisher.publish(history());
    const first = await rebuildProjection(config, devicesProjection, { caughtUpLag: 0 });

    // when the projection is rebuilt again (the default wait for a live service is 30 s)
    const lines: string[] = [];
    const second = await rebuildProjection(config, devicesProjection, {
      caughtUpLag: 0,
      log: (line) => lines.push(line),
    });

    // then it saw nobody in the old build's consumer group and did not wait for anyone
    expect(second.previous).toBe(first.buildId);
    expect(lines).toContain(
      `rebuild devices: no live service is running; it will serve ${second.buildId} when started`,
    );
    expect(lines.filter((line) => line.includes('no live service moved'))).toEqual([]);
    // and readers read the new build, which holds every device; the first build is gone
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    expect((await new BuildRegistry(mongo.db).get('devices'))?.active).toBe(second.buildId);
    const collections = (await mongo.db.listCollections().toArray()).map((c) => c.name);
    expect(collections).toContain(`devices_${second.buildId}`);
    expect(collections).not.toContain(`devices_${first.buildId}`);
    expect(await mongo.db.collection(`devices_${second.buildId}`).countDocuments()).toBe(5);
  });
});
