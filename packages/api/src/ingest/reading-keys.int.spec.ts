import { mongoClient } from '@gridstream/mongo';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedConfig } from '../../../../test/support.ts';
import { dropTestData } from '../../../../test/cleanup.ts';
import { KEY_TTL_MS } from './keyed-batch.ts';
import {
  KEY_SWEEP_BATCH,
  prepareReadingKeys,
  READING_KEYS_COLLECTION,
  readingKeyStore,
} from './reading-keys.ts';
import type { ReadingKeyDocument } from './reading-keys.ts';

const config = isolatedConfig();
const client = mongoClient(config);
afterAll(async () => {
  await client.close();
  await dropTestData(config);
});

describe("the reading Idempotency-Keys' expiry, on the stack's FerretDB", () => {
  it('counts an expired record as none, and the sweep FerretDB needs removes it', async () => {
    const db = client.db(config.GS_MONGO_DB);
    let nowMs = Date.parse('2026-12-04T12:00:00Z');
    const clock = () => nowMs;
    // given the collection prepared: FerretDB 1.24 has no TTL index, so the API sweeps
    const prepared = await prepareReadingKeys(db, () => undefined, clock);
    prepared.stop();
    expect(prepared.expiry).toBe('sweep');
    // and a key used and published
    const store = readingKeyStore(db, clock);
    expect(await store.claim('acme', 'k', 'f1', 3)).toEqual({ kind: 'publish' });
    await store.markPublished('acme', 'k');
    // when its time to live has passed
    nowMs += KEY_TTL_MS;
    // then the sweep removes it
    expect(await prepared.sweep()).toBe(1);
    expect(await db.collection(READING_KEYS_COLLECTION).countDocuments()).toBe(0);
    // and a record the sweep has not reached yet counts as none: the key takes another batch
    expect(await store.claim('acme', 'k', 'f1', 3)).toEqual({ kind: 'publish' });
    nowMs += KEY_TTL_MS;
    expect(await store.claim('acme', 'k', 'f2', 5)).toEqual({ kind: 'publish' });
    expect(await store.claim('acme', 'k', 'f1', 3)).toEqual({ kind: 'reused' });
  });

  it('sweeps a backlog larger than one delete, and leaves the records still alive', async () => {
    const db = client.db(`${config.GS_MONGO_DB}_backlog`);
    const nowMs = Date.parse('2026-12-05T12:00:00Z');
    const prepared = await prepareReadingKeys(
      db,
      () => undefined,
      () => nowMs,
    );
    prepared.stop();
    // given two and a half deletes' worth of expired records, and three that have hours to go
    const record = (i: number, expiresAtMs: number): ReadingKeyDocument => ({
      _id: `acme/k-${i}`,
      tenant: 'acme',
      fingerprint: 'f',
      published: true,
      accepted: 1,
      createdAt: new Date(expiresAtMs - KEY_TTL_MS),
      expiresAt: new Date(expiresAtMs),
    });
    const expired = Math.floor(2.5 * KEY_SWEEP_BATCH);
    const keys = db.collection<ReadingKeyDocument>(READING_KEYS_COLLECTION);
    await keys.insertMany(Array.from({ length: expired }, (_, i) => record(i, nowMs - 1000 - i)));
    await keys.insertMany([1, 2, 3].map((h) => record(expired + h, nowMs + h * 3600_000)));
    try {
      // when the API's sweep runs once
      const deleted = await prepared.sweep();
      // then every expired record is gone and the live ones stay
      expect(deleted).toBe(expired);
      expect(await keys.countDocuments()).toBe(3);
      expect(await keys.countDocuments({ expiresAt: { $gt: new Date(nowMs) } })).toBe(3);
    } finally {
      await db.dropDatabase();
    }
  });
});
