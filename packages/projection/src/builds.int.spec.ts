import { afterAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@gridstream/mongo';
import { isolatedConfig } from '../../../test/support.ts';
import { dropTestData } from '../../../test/cleanup.ts';
import { BuildRegistry } from './builds.ts';

const config = isolatedConfig();
afterAll(() => dropTestData(config));

describe('the projection build registry on the real MongoDB-compatible server', () => {
  it('gives instances that start together the same entry, none failing on the key', async () => {
    // given eight instances of a projection starting at once on a fresh database
    const mongo = await connectMongo(config);
    try {
      const registries = Array.from({ length: 8 }, () => new BuildRegistry(mongo.db));
      // when each makes sure the registry entry exists
      const entries = await Promise.all(registries.map((r) => r.ensure('site_energy', 1)));
      // then every one has the one entry with the first build active
      expect(new Set(entries.map((e) => JSON.stringify(e)))).toEqual(
        new Set([JSON.stringify(entries[0])]),
      );
      expect(entries[0]).toMatchObject({ _id: 'site_energy', active: 'v1' });
      // and the projection's stable name is one view, on the first build's collection
      expect(await mongo.db.listCollections({ name: 'site_energy' }).toArray()).toMatchObject([
        { type: 'view', options: { viewOn: 'site_energy_v1' } },
      ]);
    } finally {
      await mongo.close();
    }
  });

  it('re-points the stable name when a build is activated, before activate returns', async () => {
    // given a projection whose first build is active, and a second build beside it
    const mongo = await connectMongo(config);
    try {
      const registry = new BuildRegistry(mongo.db);
      await registry.ensure('alerts', 1);
      await mongo.db.collection('alerts_v1').insertOne({ _id: 'old' } as never);
      await mongo.db.collection('alerts_v1-20261205000000').insertOne({ _id: 'new' } as never);
      expect(await mongo.db.collection('alerts').find().toArray()).toEqual([{ _id: 'old' }]);
      // when the second build is activated
      const previous = await registry.activate('alerts', 'v1-20261205000000');
      // then the stable name reads it at once, and the first build can be dropped under it
      expect(previous).toBe('v1');
      expect(await mongo.db.collection('alerts').find().toArray()).toEqual([{ _id: 'new' }]);
      await mongo.db.dropCollection('alerts_v1');
      expect(await mongo.db.collection('alerts').countDocuments()).toBe(1);
    } finally {
      await mongo.close();
    }
  });
});
