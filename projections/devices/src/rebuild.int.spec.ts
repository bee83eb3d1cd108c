import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  committedMessages,
  createEventPublisher,
  createKafka,
  kafkaSettings,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import {
  BuildRegistry,
  buildGroupId,
  partGroupId,
  ProjectionReader,
  rebuildProjection,
} from '@gridstream/projection';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { dropTestData } from '../../../test/cleanup.ts';
import { startDevicesProjection } from './run.ts';
import { devicesProjection } from './store.ts';

const tenant = 'acme';
const DEVICES = 40;

/** A randomized history: registrations, updates, decommissions, restores and readings, some twice. */
function history(seed: number): GridstreamEvent[] {
  const rng = fc.sample(fc.integer({ min: 0, max: 1_000_000 }), { seed, numRuns: 20_000 });
  let n = 0;
  const next = () => rng[n++ % rng.length] ?? 0;
  const events: GridstreamEvent[] = [];
  const envelope = (deviceId: string, minute: number) => ({
    id: `01930000-0000-7000-8000-${String(events.length).padStart(12, '0')}`,
    source: 'test',
    subject: deviceId,
    time: new Date(Date.UTC(2026, 10, 24, 0, minute, next() % 60)).toISOString(),
    tenant,
  });
  for (let d = 0; d < DEVICES; d++) {
    const deviceId = `dev-${d}`;
    events.push({
      ...envelope(deviceId, 0),
      type: EventType.deviceRegistered,
      data: {
        deviceId,
        siteId: `site-${d % 7}`,
        kind: 'smart_plug',
        role: 'consumer',
        name: `Plug ${d}`,
        timeZone: 'Europe/Berlin',
      },
    });
  }
  for (let i = 0; i < 4_000; i++) {
    const deviceId = `dev-${next() % DEVICES}`;
    const minute = 1 + (next() % 600);
    const roll = next() % 100;
    if (roll < 2) {
      events.push({
        ...envelope(deviceId, minute),
        type: EventType.deviceUpdated,
        data: { deviceId, name: `Renamed ${next() % 1000}` },
      });
    } else if (roll < 3) {
      events.push({
        ...envelope(deviceId, minute),
        type: EventType.deviceDecommissioned,
        data: { deviceId, reason: 'test' },
      });
    } else if (roll < 4) {
      events.push({
        ...envelope(deviceId, minute),
        type: EventType.deviceRestored,
        data: { deviceId, reason: 'test' },
      });
    } else {
      events.push({
        ...envelope(deviceId, minute),
        type: EventType.readingReported,
        data: { deviceId, powerW: next() % 3_000, importWh: next(), quality: 'good' },
      });
    }
  }
  // a tenth delivered twice
  return [...events, ...events.filter((_, i) => i % 10 === 0)];
}

async function documents(config: Config) {
  const mongo = await connectMongo(config);
  try {
    const collection = await new ProjectionReader(mongo.db, devicesProjection).collection();
    const docs = await collection.find({}).sort({ _id: 1 }).toArray();
    return { name: collection.collectionName, states: docs.map((d) => [d._id, d.state]) };
  } finally {
    await mongo.close();
  }
}

describe('rebuilding the devices projection on the real Kafka and MongoDB', () => {
  const configs: Config[] = [];
  afterAll(async () => {
    for (const config of configs) await dropTestData(config);
  });

  it('builds documents identical to the live ones, resumes after kill -9, and switches readers only when caught up', async () => {
    // given a live projection that has applied a randomized history
    const config = isolatedConfig();
    configs.push(config);
    const kafka = createKafka(kafkaSettings(config, 'test-rebuild'));
    const publisher = await createEventPublisher(kafka, topicNames(config.GS_TOPIC_PREFIX));
    const live = await startDevicesProjection(config, { lagLogIntervalMs: 0 });
    try {
      const events = history(11);
      await publisher.publish(events);
      await eventually(
        'the live projection caught up',
        async () => ((await live.lag()) === 0 ? true : undefined),
        120_000,
        250,
      );
      const before = await documents(config);
      expect(before.name).toBe('devices_v2');
      expect(before.states).toHaveLength(DEVICES);

      // when a rebuild runs as its own process and is killed with SIGKILL part-way
      const cli = fileURLToPath(new URL('../../../packages/cli/src/main.ts', import.meta.url));
      const env = {
        ...process.env,
        GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
        GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
        GS_MONGO_URL: config.GS_MONGO_URL,
        GS_MONGO_DB: config.GS_MONGO_DB,
        // small batches, written almost every batch (few documents held in memory),
        // checkpointed every 20 ms and held to 1,000 events a second, so the rebuild commits
        // early and cannot have caught up (within 1,000 of 4,400 events) for 3 s: it is killed
        // in the middle. Unpaced, a rebuild once went through the whole log between two polls
        // of this test on CI, and switched before the kill.
        GS_PROJECTION_REBUILD_FETCH_BYTES: '8192',
        GS_PROJECTION_REBUILD_MAX_DOCUMENTS: '5',
        GS_PROJECTION_REBUILD_CHECKPOINT_MS: '20',
        GS_PROJECTION_REBUILD_MAX_EVENTS_PER_SECOND: '1000',
        // in two parts, each in a worker thread, whatever the cores here
        GS_PROJECTION_REBUILD_WORKERS: '2',
      };
      const child = spawn(process.execPath, [cli, 'rebuild', 'devices'], { env, stdio: 'ignore' });
      const mongo = await connectMongo(config);
      const registry = new BuildRegistry(mongo.db);
      try {
        const building = await eventually(
          'the rebuild to have applied part of the log',
          async () => {
            const buildId = (await registry.get('devices'))?.building;
            if (buildId === undefined) return undefined;
            // (each part commits to a group of its own until the build's group is handed
            // their offsets at the end)
            const group = buildGroupId(config.GS_TOPIC_PREFIX, 'devices', buildId);
            const parts = [0, 1].map((index) => partGroupId(group, { index, count: 2 }));
            let done = 0;
            for (const id of parts)
              done += await committedMessages(
                kafka,
                id,
                topicNames(config.GS_TOPIC_PREFIX).readings,
              );
            return done > 0 ? buildId : undefined;
          },
          60_000,
          20,
        );
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        // then readers still read the live build: nothing half-built was switched in
        expect((await registry.get('devices'))?.active).toBe('v2');
        expect((await documents(config)).states).toEqual(before.states);

        // and a second run resumes that build, catches up, and switches readers over
        // (nothing is being published now, so it can wait for every event)
        const lines: string[] = [];
        const result = await rebuildProjection(
          { ...config, GS_PROJECTION_REBUILD_WORKERS: 2 },
          devicesProjection,
          { caughtUpLag: 0, log: (line) => lines.push(line) },
        );
        expect(result).toMatchObject({ buildId: building, previous: 'v2', resumed: true });
        expect(lines).toContain('rebuild devices: folding in 2 parts, each in a worker thread');
        // and the build's group was handed what the parts committed: the whole log, so the
        // live service goes on from its end; the parts' own groups are gone
        const topics = topicNames(config.GS_TOPIC_PREFIX);
        const group = buildGroupId(config.GS_TOPIC_PREFIX, 'devices', building);
        expect(await committedMessages(kafka, group, topics.readings)).toBe(
          events.filter((e) => e.type === EventType.readingReported).length,
        );
        expect(await committedMessages(kafka, group, topics.devices)).toBe(
          events.length - events.filter((e) => e.type === EventType.readingReported).length,
        );
        const admin = kafka.admin();
        await admin.connect();
        const { groups } = await admin.listGroups().finally(() => admin.disconnect());
        expect(
          groups.map((g) => g.groupId).filter((id) => id.startsWith(`${group}.part-`)),
        ).toEqual([]);
        const after = await documents(config);
        expect(after.name).toBe(`devices_${building}`);
        expect(after.states).toEqual(before.states);
        // and the live service moved to the new build, the old one is gone
        expect(live.buildId()).toBe(building);
        const collections = (await mongo.db.listCollections().toArray()).map((c) => c.name);
        expect(collections).not.toContain('devices_v2');

        // and new events reach the new build
        await publisher.publish([
          {
            id: '01930000-0000-7000-8000-999999999999',
            type: EventType.deviceUpdated,
            source: 'test',
            subject: 'dev-3',
            time: '2026-11-24T12:00:00Z',
            tenant,
            data: { deviceId: 'dev-3', name: 'After the rebuild' },
          },
        ]);
        await eventually('the update in the new build', async () => {
          const state = (await documents(config)).states.find(([id]) => id === 'acme/dev-3')?.[1];
          return (state as { name?: string } | undefined)?.name === 'After the rebuild'
            ? true
            : undefined;
        });
      } finally {
        child.kill('SIGKILL');
        await mongo.close();
      }
    } finally {
      await live.stop();
      await publisher.disconnect();
    }
  });
});
