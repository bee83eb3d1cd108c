import { describe, expect, it } from 'vitest';
import { questDbHttp } from '@gridstream/config';
import { EventType, SupersededEventType } from '@gridstream/events';
import type { DeviceRegisteredV1, GridstreamEvent } from '@gridstream/events';
import {
  bufferEventRow,
  createIlpSender,
  ensureEventsTable,
  eventsTableName,
  readDeviceEvents,
  readingsTableName,
  waitForWalApplied,
} from '@gridstream/questdb';
import { isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { loadDeviceStateAt } from './as-of.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'acme';
const deviceId = 'meter-1';

const registrationV1: DeviceRegisteredV1 = {
  deviceId,
  siteId: 'site-1',
  kind: 'meter',
  role: 'grid',
  name: 'Main meter',
  timeZone: 'Europe/Berlin',
  ratedPowerW: 17_000,
  counterWrapWh: 1_000_000_000,
  actor: 'operator:ann',
};

describe("a device's archived history with rows from before device.registered.v2 (QuestDB)", () => {
  it('reads a registration archived as v1 as v2, and folds the state as of an instant from it', async () => {
    const reader = stackQuestDbReader();
    stopAfterAll(() => reader.close());
    const sender = await createIlpSender(questDbHttp(config));
    stopAfterAll(() => sender.close());
    const table = eventsTableName(config.GS_QDB_TABLE_PREFIX);
    await ensureEventsTable(reader, table);
    // given the archive's rows of a device: its registration archived as v1, before v2 existed
    // (type and data as they were then), and an update archived since
    const archivedV1 = {
      id: 'reg-1',
      type: SupersededEventType.deviceRegisteredV1,
      source: '/v1/registry',
      subject: deviceId,
      time: '2026-03-01T00:00:00.000Z',
      tenant,
      data: registrationV1,
    } as unknown as GridstreamEvent; // a type no current producer can write
    const updated: GridstreamEvent = {
      id: 'upd-1',
      type: EventType.deviceUpdated,
      source: '/v1/registry',
      subject: deviceId,
      time: '2026-03-02T00:00:00.000Z',
      tenant,
      data: { deviceId, name: 'Grid meter' },
    };
    for (const [offset, event] of [archivedV1, updated].entries())
      await bufferEventRow(sender, table, {
        event,
        topic: 'devices',
        partition: 0,
        offset: String(offset),
      });
    await sender.flush();
    await waitForWalApplied(reader, table);

    // when its history is read and its state as of a later instant folded
    const history = await readDeviceEvents(reader, table, {
      tenant,
      deviceId,
      fromMs: 0,
      toMs: Date.parse('2026-04-01T00:00:00Z'),
      limit: 100,
    });
    const state = await loadDeviceStateAt(
      reader,
      { events: table, readings: readingsTableName(config.GS_QDB_TABLE_PREFIX) },
      tenant,
      deviceId,
      Date.parse('2026-03-03T00:00:00Z'),
    );

    // then the registration reads as v2, its rating and register size in nameplate
    expect(history.map((e) => [e.type, e.data])).toEqual([
      [
        EventType.deviceRegistered,
        {
          deviceId,
          siteId: 'site-1',
          kind: 'meter',
          role: 'grid',
          name: 'Main meter',
          timeZone: 'Europe/Berlin',
          nameplate: { ratedPowerW: 17_000, counterWrapWh: 1_000_000_000 },
          actor: 'operator:ann',
        },
      ],
      [EventType.deviceUpdated, { deviceId, name: 'Grid meter' }],
    ]);
    // and the state as of then is the registered device, renamed, with its rating
    expect(state).toMatchObject({
      status: 'active',
      siteId: 'site-1',
      name: 'Grid meter',
      ratedPowerW: 17_000,
      counterWrapWh: 1_000_000_000,
      registeredAt: '2026-03-01T00:00:00.000Z',
    });
  });
});
