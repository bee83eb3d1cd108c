import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import { isolatedConfig } from '../../../test/support.ts';
import { dropTestData } from '../../../test/cleanup.ts';
import type { CommandRequestedEvent } from './decide-request.ts';
import { openIdempotencyStore } from './idempotency-store.ts';

const config = isolatedConfig();
const client = new MongoClient(config.GS_MONGO_URL);
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
    expect(await store.insert('acme', 'key-1', { fingerprint: 'f', event: request })).toBe(true);
    // then no command by that id exists yet: a cancellation of it would be lost
    expect(await store.findByCommand('acme', 'c1')).toBeUndefined();
    // when it is published
    await store.markPublished('acme', 'key-1');
    // then it is found by its command id
    expect(await store.findByCommand('acme', 'c1')).toMatchObject({ commandId: 'c1' });
  });
});
