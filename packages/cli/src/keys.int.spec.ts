import { afterAll, describe, expect, it } from 'vitest';
import { API_KEYS_COLLECTION, ApiKeyStore, hashApiKey } from '@gridstream/api';
import { connectMongo } from '@gridstream/mongo';
import { isolatedConfig } from '../../../test/support.ts';
import { keysCommand } from './keys.ts';

const config = isolatedConfig();

afterAll(async () => {
  const mongo = await connectMongo(config);
  await mongo.db.dropDatabase();
  await mongo.close();
});

async function run(...argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  await keysCommand(config, argv, (line) => lines.push(line));
  return lines;
}

describe('gridstream keys', () => {
  it('creates a key shown once and stored only as its hash; list shows it; revoke ends it', async () => {
    // when a key is created
    const [key = ''] = await run('create', '--tenant', 'acme', '--scopes', 'read,ingest');
    expect(key).toMatch(/^gs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const keyId = key.slice(3, 15);
    // then MongoDB holds its hash, never the key
    const mongo = await connectMongo(config);
    try {
      const stored = await mongo.db
        .collection(API_KEYS_COLLECTION)
        .findOne({ _id: keyId as never });
      expect(stored).toMatchObject({ tenant: 'acme', scopes: ['read', 'ingest'] });
      expect(stored?.['sha256']).toBe(hashApiKey(key));
      expect(JSON.stringify(stored)).not.toContain(key.slice(16));
      // and it verifies as tenant acme's, with its scopes
      const store = await ApiKeyStore.open(mongo.db, { cacheMs: 0 });
      expect(await store.verify(key)).toEqual({
        keyId,
        tenant: 'acme',
        scopes: ['read', 'ingest'],
      });
      expect(await store.verify(`${key.slice(0, -1)}x`)).toBeUndefined();
      // list shows it without the secret
      const listed = await run('list', '--tenant', 'acme');
      expect(listed).toHaveLength(1);
      expect(listed[0]).toContain(keyId);
      expect(listed[0]).toContain('scopes read,ingest');
      // when it is revoked, it no longer verifies, and a second revoke says so
      expect(await run('revoke', keyId)).toEqual([`revoked ${keyId}`]);
      expect(await store.verify(key)).toBeUndefined();
      expect((await run('list'))[0]).toContain('revoked');
      await expect(run('revoke', keyId)).rejects.toThrow(RangeError);
    } finally {
      await mongo.close();
    }
  });

  it('refuses an unknown scope or a missing tenant with a usage error', async () => {
    await expect(run('create', '--tenant', 'acme', '--scopes', 'read,root')).rejects.toThrow(
      /unknown scope 'root'/,
    );
    await expect(run('create', '--scopes', 'read')).rejects.toThrow(/--tenant/);
    await expect(run('rotate')).rejects.toThrow(/unknown keys action/);
  });
});
