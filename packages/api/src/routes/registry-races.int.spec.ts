import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import {
  openRegistryStore,
  RunRegistryCommands,
  startRegistryWriteSide,
} from '@gridstream/registry';
import type { RegistryCommand, RegistryWriteSide } from '@gridstream/registry';
import { isolatedConfig } from '../../../../test/support.ts';
import { readTopic, teardown } from '../../../../test/cleanup.ts';

// Requests racing on one entity, against the real MongoDB and Kafka: the write side's
// compare-and-set judges them one after the other, so the log gets one event, not several.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'racers';
let registry: RegistryWriteSide;

beforeAll(async () => {
  const kafka = createKafka(kafkaSettings(config, 'registry-races'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  stopAfterAll(() => publisher.disconnect());
  const mongo = await connectMongo(config);
  stopAfterAll(() => mongo.close());
  registry = await startRegistryWriteSide({
    store: await openRegistryStore(mongo.db),
    // nothing was registered straight on Kafka here: the write side's facts are all there is
    readSite: async () => undefined,
    readDevice: async () => undefined,
    readActiveDeviceIds: async () => [],
    readSites: async () => new Map(),
    readDevices: async () => new Map(),
    publish: (events) => publisher.publish(events),
    nowMs: Date.now,
    newEventId: uuidv7,
  });
  stopAfterAll(() => registry.close());
  await run({ type: 'register-site', siteId: 'arena', name: 'Arena', timeZone: 'UTC' });
});

afterAll(() => undefined);

const run = (command: RegistryCommand, key?: string) =>
  registry.commandBus.execute(new RunRegistryCommands(tenant, 'key:test', [command], key));

const registration = (name: string): RegistryCommand => ({
  type: 'register-device',
  deviceId: 'contested',
  siteId: 'arena',
  kind: 'smart_plug',
  role: 'consumer',
  name,
});

describe('the registry write side under racing requests', () => {
  it('registers a device once when eight requests with different names race: the rest are 409', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => run(registration(`plug ${i}`))),
    );
    const outcomes = answers.map((a) => a.outcomes[0]);
    const changed = outcomes.filter((o) => o?.outcome === 'changed');
    expect(changed).toHaveLength(1);
    const refused = outcomes.filter((o) => o?.outcome === 'refused');
    expect(refused).toHaveLength(7);
    for (const o of refused)
      expect(o?.outcome === 'refused' && o.refusal.reason).toBe('device-id-taken');
  });

  it('decommissions once when eight requests race, and publishes one event per change', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        run({ type: 'decommission-device', deviceId: 'contested', reason: 'race' }),
      ),
    );
    expect(answers.filter((a) => a.outcomes[0]?.outcome === 'changed')).toHaveLength(1);
    expect(answers.filter((a) => a.outcomes[0]?.outcome === 'unchanged')).toHaveLength(7);
    const types = (await readTopic(config, 'devices')).map((m) => m.headers['ce_type']);
    expect(types.sort()).toEqual([
      'gridstream.device.decommissioned.v1',
      'gridstream.device.registered.v2',
      'gridstream.site.registered.v1',
    ]);
  });

  it('answers eight racing requests of one Idempotency-Key with one change', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        run({ type: 'update-site', siteId: 'arena', name: 'Arena 2' }, 'rename-arena'),
      ),
    );
    const eventIds = new Set(
      answers.flatMap((a) =>
        a.outcomes[0]?.outcome === 'changed' && a.outcomes[0].event !== undefined
          ? [a.outcomes[0].event.id]
          : [],
      ),
    );
    expect(eventIds.size, JSON.stringify(answers, null, 1)).toBe(1);
    const updates = (await readTopic(config, 'devices')).filter(
      (m) => m.headers['ce_type'] === 'gridstream.site.updated.v1',
    );
    expect(updates).toHaveLength(1);
  });
});
