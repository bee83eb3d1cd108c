import { afterAll, describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import { partitionOfKey, topicNames } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { dropTestData, readTopic } from '../../../test/cleanup.ts';
import type { ProcessorEvent } from './command-saga.ts';
import { commandEventId } from './event-ids.ts';
import type { DeviceCommandsDocument } from './plan.ts';
import { startCommandsProcessor } from './run.ts';
import { COMMAND_SAGAS_COLLECTION, openDeviceCommands } from './store.ts';

const config = isolatedConfig({ GS_COMMAND_TIMER_INTERVAL_MS: '100' });
afterAll(() => dropTestData(config));

describe('the command saga outbox', () => {
  it('publishes what a crashed processor decided and wrote but never published, with the same id', async () => {
    // given a device document as a processor left it when killed between its write and its
    // publish: a command dispatched, and the dispatch still in the outbox
    const nowMs = Date.now();
    const dispatched: ProcessorEvent = {
      id: commandEventId('acme', 'c1', 'dispatched-1'),
      type: EventType.commandDispatched,
      source: 'processor/commands',
      subject: 'plug-1',
      time: new Date(nowMs).toISOString(),
      tenant: 'acme',
      data: {
        commandId: 'c1',
        deviceId: 'plug-1',
        attempt: 1,
        action: 'switch_off',
        parameters: {},
        priority: 'normal',
        ackDeadline: new Date(nowMs + 600_000).toISOString(),
        expiresAt: new Date(nowMs + 600_000).toISOString(),
      },
    };
    const document: DeviceCommandsDocument = {
      _id: 'acme/plug-1',
      state: {
        tenant: 'acme',
        deviceId: 'plug-1',
        finished: [],
        commands: [
          {
            commandId: 'c1',
            action: 'switch_off',
            parameters: {},
            priority: 'normal',
            requestedAtMs: nowMs,
            expiresAtMs: nowMs + 600_000,
            phase: 'dispatched',
            attempts: 1,
            dueAtMs: nowMs + 600_000,
          },
        ],
      },
      // the request it came from: a device's saga is its instance's by that partition
      _meta: {
        version: 1,
        positions: [
          {
            topic: topicNames(config.GS_TOPIC_PREFIX).commands,
            partition: partitionOfKey('plug-1', config.GS_TOPIC_PARTITIONS),
            offset: '0',
          },
        ],
      },
      outbox: [dispatched],
      hasOutbox: true,
      dueAtMs: nowMs + 600_000,
    };
    const mongo = await connectMongo(config);
    try {
      await (await openDeviceCommands(mongo.db)).insertOne(document);
      // when a processor starts
      const processor = await startCommandsProcessor(config);
      try {
        // then the dispatch reaches the gateway with the id it was decided with, and the outbox
        // is emptied, the state left as it was
        const letters = await eventually('the dispatch on the gateway', async () => {
          const found = await readTopic(config, 'gateway');
          return found.length > 0 ? found : undefined;
        });
        expect(letters.map((l) => [l.headers['ce_id'], l.headers['ce_type']])).toEqual([
          [dispatched.id, EventType.commandDispatched],
        ]);
        const stored = await eventually('the outbox emptied', async () => {
          const found = await mongo.db
            .collection<DeviceCommandsDocument>(COMMAND_SAGAS_COLLECTION)
            .findOne({ _id: 'acme/plug-1' });
          return found?.hasOutbox === false ? found : undefined;
        });
        expect(stored.outbox).toEqual([]);
        expect(stored.state).toEqual(document.state);
      } finally {
        await processor.stop();
      }
    } finally {
      await mongo.close();
    }
  });
});
