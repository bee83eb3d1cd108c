import { describe, expect, it } from 'vitest';
import type { GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { BuildRegistry, rebuildProjection, stableViewName } from '@gridstream/projection';
import { isolatedConfig, registration } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { devicesProjection } from './store.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);

const registrations = (from: number, to: number): GridstreamEvent[] =>
  Array.from({ length: to - from }, (_, i) =>
    registration('acme', { deviceId: `dev-${from + i}`, siteId: 'site-1' }),
  );

describe("a projection's stable name (docs/analysts.md)", () => {
  it('reads the active build, and the new one once a rebuild switches builds', async () => {
    // given three devices in the log and a first rebuild of the devices projection
    const kafka = createKafka(kafkaSettings(config, 'test-stable-name'));
    const names = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, names, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, names);
    stopAfterAll(() => publisher.disconnect());
    await publisher.publish(registrations(0, 3));
    const first = await rebuildProjection(config, devicesProjection, { caughtUpLag: 0 });
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    const stable = mongo.db.collection(stableViewName('devices'));
    const viewOn = async () =>
      (await mongo.db.listCollections({ name: 'devices' }, { nameOnly: false }).toArray())[0]
        ?.options as { viewOn?: string } | undefined;

    // then `devices` is a view on the first build and reads its three devices
    expect(stableViewName('devices')).toBe('devices');
    expect((await viewOn())?.viewOn).toBe(`devices_${first.buildId}`);
    expect((await stable.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([
      'acme/dev-0',
      'acme/dev-1',
      'acme/dev-2',
    ]);

    // when two more devices register and the projection is rebuilt again (the first build is
    // dropped after the switch)
    await publisher.publish(registrations(3, 5));
    const second = await rebuildProjection(config, devicesProjection, { caughtUpLag: 0 });
    expect(second.previous).toBe(first.buildId);

    // then the same name reads the second build: the registry's active one, all five devices,
    // the same documents as the build's own collection
    expect((await new BuildRegistry(mongo.db).get('devices'))?.active).toBe(second.buildId);
    expect((await viewOn())?.viewOn).toBe(`devices_${second.buildId}`);
    const throughView = await stable.find().sort({ _id: 1 }).toArray();
    expect(throughView).toHaveLength(5);
    expect(throughView).toEqual(
      await mongo.db.collection(`devices_${second.buildId}`).find().sort({ _id: 1 }).toArray(),
    );
    expect(await stable.countDocuments({ 'state.siteId': 'site-1' })).toBe(5);
  });

  it('leaves a collection that already holds the name alone, and says so once', async () => {
    // given a collection of someone else's named like a projection, on a fresh database
    const own = isolatedConfig();
    const mongo = await connectMongo(own);
    try {
      await mongo.db.collection('sites').insertOne({ _id: 'not a view' } as never);
      const lines: string[] = [];
      const registry = new BuildRegistry(mongo.db, { log: (line) => lines.push(line) });

      // when the projection's registry entry is made, and a build activated
      const entry = await registry.ensure('sites', 1);
      await registry.activate('sites', 'v1-20261205000000');

      // then the registry works as ever, the collection is untouched, and one line said why
      expect(entry).toMatchObject({ _id: 'sites', active: 'v1' });
      expect((await registry.get('sites'))?.active).toBe('v1-20261205000000');
      expect(await mongo.db.collection('sites').find().toArray()).toEqual([{ _id: 'not a view' }]);
      expect(await mongo.db.listCollections({ name: 'sites' }).toArray()).toMatchObject([
        { type: 'collection' },
      ]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^projection sites: no stable view sites \(a collection already has that name/,
      );
    } finally {
      await mongo.db.dropDatabase();
      await mongo.close();
    }
  });
});
