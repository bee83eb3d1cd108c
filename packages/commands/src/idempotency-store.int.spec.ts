import { mongoClient } from '@gridstream/mongo';
import { afterAll, describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import { isolatedConfig } from '../../../test/support.ts';
import { dropTestData } from '../../../test/cleanup.ts';
import type { CommandRequestedEvent } from './decide-request.ts';
import { IDEMPOTENCY_COLLECTION, openIdempotencyStore } from './idempotency-store.ts';
import type { IdempotencyDocument } from './idempotency-store.ts';

const config = isolatedConfig();
const client = mongoClient(config);
afterAll(async () => {
  await client.close();
  await dropTestData(config);
});

const request: CommandRequestedEvent = {
  id: 'e-c1',
  type: EventType.commandRequested,
  source: 'api',
  subject: 'plug-1',
  time: '2026-11-24T12:00:00.000Z',
  tenant: 'acme',
  data: {
    commandId: 'c1',
    deviceId: 'plug-1',
    action: 'switch_off',
    parameters: {},
    priority: 'normal',
    correlationId: 'c1',
    requestedBy: 'ops',
    expiresAt: '2026-11-24T12:05:00.000Z',
  },
};

describe('the Idempotency-Key store', () => {
  it('knows a command by its id only once its request is published', async () => {
    const store = await openIdempotencyStore(client.db(config.GS_MONGO_DB));
    // given a request recorded, but not published (the API crashed, or Kafka refused it)
    expect(
      await store.insert('acme', 'key-1', { fingerprint: 'f', event: request }, Date.now()),
    ).toBe(true);
    // then no command by that id exists yet: a cancellation of it would be lost
    expect(await store.findByCommand('acme', 'c1')).toBeUndefined();
    // when it is published
    await store.markPublished('acme', 'key-1');
    // then it is found by its command id
    expect(await store.findByCommand('acme', 'c1')).toMatchObject({ commandId: 'c1' });
  });

  it('lets one of eight racing replays take over a claim that ran out, in each of ten rounds', async () => {
    const store = await openIdempotencyStore(client.db(config.GS_MONGO_DB));
    const atMs = Date.parse('2026-11-24T12:00:00Z');
    for (let round = 0; round < 10; round++) {
      // given a record whose maker claimed publishing it until atMs, and never did
      const key = `claim-${round}`;
      await store.insert('acme', key, { fingerprint: 'f', event: request }, atMs);
      // when eight replays find the claim over at once
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => store.claimPublish('acme', key, atMs + 1, atMs + 5_001)),
      );
      // then one of them publishes it
      expect(claims.filter(Boolean)).toHaveLength(1);
    }
  });

  it('lets no one take a claim still held, nor a record published', async () => {
    const store = await openIdempotencyStore(client.db(config.GS_MONGO_DB));
    const atMs = Date.parse('2026-11-24T12:00:00Z');
    await store.insert('acme', 'held', { fingerprint: 'f', event: request }, atMs + 5_000);
    expect(await store.claimPublish('acme', 'held', atMs, atMs + 5_000)).toBe(false);
    await store.markPublished('acme', 'held');
    expect(await store.claimPublish('acme', 'held', atMs + 10_000, atMs + 15_000)).toBe(false);
  });

  it('lets a replay publish a record from before claims that was left unpublished', async () => {
    const db = client.db(config.GS_MONGO_DB);
    const store = await openIdempotencyStore(db);
    // given a record written before records had a claim
    await db.collection<IdempotencyDocument>(IDEMPOTENCY_COLLECTION).insertOne({
      _id: 'acme/old',
      tenant: 'acme',
      commandId: 'c-old',
      fingerprint: 'f',
      event: request,
      published: false,
    });
    // then the first replay may publish it, and only the first
    expect(await store.claimPublish('acme', 'old', Date.now(), Date.now() + 5_000)).toBe(true);
    expect(await store.claimPublish('acme', 'old', Date.now(), Date.now() + 5_000)).toBe(false);
  });
});
