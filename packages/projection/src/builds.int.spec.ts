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
    } finally {
      await mongo.close();
    }
  });
});
