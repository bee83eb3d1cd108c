import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '@gridstream/config';
import { CeHeader, EventType } from '@gridstream/events';
import type { AlertClearedV1, AlertRaisedV1, GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  groupLag,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import type { MongoConnection } from '@gridstream/mongo';
import { ProjectionReader, rebuildProjection, startLiveProjection } from '@gridstream/projection';
import { alertsProjection, findAlerts } from '@gridstream/projection-alerts';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';
import {
  ALERT_STATES_COLLECTION,
  alertsProcessorGroupId,
  deviceStateId,
  startAlertsProcessor,
} from '@gridstream/processor-alerts';
import type { DeviceStateDocument } from '@gridstream/processor-alerts';

const tenant = 'acme';
const minute = 60_000;

interface AlertRecord {
  readonly id: string;
  readonly type: string;
  readonly data: AlertRaisedV1 | AlertClearedV1;
}

async function alertsOnTopic(config: Config): Promise<AlertRecord[]> {
  return (await readTopic(config, 'alerts')).map((letter) => ({
    id: letter.headers[CeHeader.id] ?? '',
    type: letter.headers[CeHeader.type] ?? '',
    data: JSON.parse(letter.value) as AlertRaisedV1 | AlertClearedV1,
  }));
}

/** Waits until the alerts topic holds `count` events, then returns them (sorted by time). */
function alertsWhenThere(config: Config, count: number): Promise<AlertRecord[]> {
  return eventually(`${count} alert events`, async () => {
    const records = await alertsOnTopic(config);
    return records.length >= count ? records : undefined;
  });
}

const summary = (records: readonly AlertRecord[]) =>
  records
    .map(
      (r) =>
        `${r.data.deviceId} ${r.type === EventType.alertRaised ? 'raised' : 'cleared'} ${r.data.kind} ${r.data.at}`,
    )
    .sort();

function registration(deviceId: string, ratedPowerW?: number): GridstreamEvent {
  return {
    id: `reg-${deviceId}`,
    type: EventType.deviceRegistered,
    source: 'int-test',
    subject: deviceId,
    time: new Date(Date.now() - 3 * 3600_000).toISOString(),
    tenant,
    data: {
      deviceId,
      siteId: 'site-1',
      kind: ratedPowerW === undefined ? 'meter' : 'smart_plug',
      role: ratedPowerW === undefined ? 'grid' : 'consumer',
      name: deviceId,
      timeZone: 'Europe/Berlin',
      ...(ratedPowerW === undefined ? {} : { nameplate: { ratedPowerW } }),
    },
  };
}

function reading(
  deviceId: string,
  timeMs: number,
  fields: { powerW?: number; importWh?: number },
): GridstreamEvent {
  return {
    id: `reading-${deviceId}-${timeMs}`,
    type: EventType.readingReported,
    source: 'int-test',
    subject: deviceId,
    time: new Date(timeMs).toISOString(),
    tenant,
    data: { deviceId, quality: 'good', ...fields },
  };
}

async function startPipeline(config: Config, sweepIntervalMs?: number) {
  const stopAfterAll = teardown(config);
  const kafka = createKafka(kafkaSettings(config, 'int-alerts'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  const mongo = await connectMongo(config);
  const pipeline = {
    kafka,
    topics,
    publisher,
    mongo,
    processor: await startAlertsProcessor(
      config,
      sweepIntervalMs === undefined ? {} : { sweepIntervalMs },
    ),
    projection: await startLiveProjection(config, alertsProjection, { lagLogIntervalMs: 0 }),
  };
  stopAfterAll(async () => {
    await pipeline.processor.stop();
    await pipeline.projection.stop();
    await publisher.disconnect();
    await mongo.close();
  });
  return pipeline;
}

const states = (mongo: MongoConnection) =>
  mongo.db.collection<DeviceStateDocument>(ALERT_STATES_COLLECTION);

describe('alerts processor and projection (Kafka, MongoDB)', () => {
  // Offline would fire for every reading of this scenario (they are hours old) with the default.
  const config = isolatedConfig({ GS_DEVICE_OFFLINE_AFTER_MS: String(24 * 3600_000) });
  let pipeline: Awaited<ReturnType<typeof startPipeline>>;
  const t0 = Date.now() - 2 * 3600_000;
  const readings = [
    reading('meter-1', t0, { importWh: 1000 }),
    reading('meter-1', t0 + minute, { importWh: 1010 }),
    reading('meter-1', t0 + 2 * minute, { importWh: 5 }), // the counter drops: a reset
    reading('meter-1', t0 + 3 * minute, { importWh: 7 }), // counting again: cleared
    reading('meter-1', t0 + 33 * minute, { importWh: 9 }), // 30 minutes of silence: a gap
    reading('plug-1', t0, { powerW: 500 }),
    reading('plug-1', t0 + minute, { powerW: 2500 }), // above 2000 W
    reading('plug-1', t0 + 2 * minute, { powerW: 1950 }), // 97.5 %: still over
    reading('plug-1', t0 + 3 * minute, { powerW: 1800 }), // 90 %: cleared
    reading('plug-1', t0 + 4 * minute, { powerW: 2600 }), // over again, stays open
  ];
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    pipeline = await startPipeline(config);
    // given a meter without a rating and a plug rated 2000 W, registered before they report
    await pipeline.publisher.publish([registration('meter-1'), registration('plug-1', 2000)]);
    await eventually('the plug rating in its alert state', async () => {
      const doc = await states(pipeline.mongo).findOne({ _id: deviceStateId(tenant, 'plug-1') });
      return doc?.state.ratedPowerW === 2000 ? doc : undefined;
    });
    // when they report a counter drop, a long silence and power over the rating
    await pipeline.publisher.publish(readings);
  });

  it('raises and clears each alert once on the alerts topic, with the event times of the transitions', async () => {
    const records = await alertsWhenThere(config, 7);
    expect(summary(records)).toEqual(
      [
        `meter-1 raised meter-reset ${iso(t0 + 2 * minute)}`,
        `meter-1 cleared meter-reset ${iso(t0 + 3 * minute)}`,
        `meter-1 raised data-gap ${iso(t0 + 3 * minute)}`,
        `meter-1 cleared data-gap ${iso(t0 + 33 * minute)}`,
        `plug-1 raised power-threshold ${iso(t0 + minute)}`,
        `plug-1 cleared power-threshold ${iso(t0 + 3 * minute)}`,
        `plug-1 raised power-threshold ${iso(t0 + 4 * minute)}`,
      ].sort(),
    );
    expect(new Set(records.map((r) => r.id)).size).toBe(7);
    const reset = records.find((r) => r.data.kind === 'meter-reset');
    expect(reset?.data).toMatchObject({
      siteId: 'site-1',
      detail: { counters: [{ counter: 'importWh', previousWh: 1010, newWh: 5 }] },
    });
    const gap = records.find((r) => r.data.kind === 'data-gap');
    expect(gap?.data.detail).toEqual({
      from: iso(t0 + 3 * minute),
      to: iso(t0 + 33 * minute),
      gapMs: 30 * minute,
      maxGapMs: config.GS_ENERGY_MAX_GAP_MS,
    });
  });

  it('projects one document per alert, open or cleared, newest first', async () => {
    const reader = new ProjectionReader(pipeline.mongo.db, alertsProjection);
    const all = await eventually('four alert documents, three cleared', async () => {
      const alerts = await findAlerts(await reader.collection(), { tenant, limit: 100 });
      return alerts.length === 4 && alerts.filter((a) => a.status === 'cleared').length === 3
        ? alerts
        : undefined;
    });
    expect(all.map((a) => a.raisedAt)).toEqual([...all.map((a) => a.raisedAt)].sort().reverse());
    const open = await findAlerts(await reader.collection(), { tenant, status: 'open', limit: 10 });
    expect(open).toEqual([
      {
        tenant,
        alertId: `plug-1:power-threshold:${iso(t0 + 4 * minute)}`,
        kind: 'power-threshold',
        deviceId: 'plug-1',
        siteId: 'site-1',
        status: 'open',
        raisedAt: iso(t0 + 4 * minute),
        detail: { powerW: 2600, ratedPowerW: 2000 },
      },
    ]);
    const resets = await findAlerts(await reader.collection(), {
      tenant,
      deviceId: 'meter-1',
      kind: 'meter-reset',
      limit: 10,
    });
    expect(resets).toMatchObject([
      { status: 'cleared', clearedAt: iso(t0 + 3 * minute), clearReason: 'recovered' },
    ]);
    expect(await findAlerts(await reader.collection(), { tenant: 'other', limit: 10 })).toEqual([]);
  });

  it('raises nothing more when readings are delivered again, even to a restarted processor', async () => {
    await alertsWhenThere(config, 7);
    // when the processor restarts and every reading arrives a second time
    await pipeline.processor.stop();
    pipeline.processor = await startAlertsProcessor(config);
    await pipeline.publisher.publish(readings);
    // then, once the group has handled them all, the topic still holds the 7 events
    await eventually('the processor to catch up', async () => {
      const lag = await groupLag(pipeline.kafka, alertsProcessorGroupId(config), [
        pipeline.topics.readings,
        pipeline.topics.devices,
      ]);
      return lag.total === 0 && lag.committed === readings.length * 2 + 2 ? lag : undefined;
    });
    expect(await alertsOnTopic(config)).toHaveLength(7);
  });

  it('clears the open alerts of a decommissioned device', async () => {
    await pipeline.publisher.publish([
      {
        id: 'decommission-plug-1',
        type: EventType.deviceDecommissioned,
        source: 'int-test',
        subject: 'plug-1',
        time: iso(t0 + 60 * minute),
        tenant,
        data: { deviceId: 'plug-1', reason: 'replaced' },
      },
    ]);
    const records = await alertsWhenThere(config, 8);
    expect(
      records
        .filter((r) => r.type === EventType.alertCleared && r.data.deviceId === 'plug-1')
        .map((r) => r.data),
    ).toContainEqual(
      expect.objectContaining({
        alertId: `plug-1:power-threshold:${iso(t0 + 4 * minute)}`,
        at: iso(t0 + 60 * minute),
        reason: 'decommissioned',
      }),
    );
    const reader = new ProjectionReader(pipeline.mongo.db, alertsProjection);
    await eventually('no open alert left', async () => {
      const open = await findAlerts(await reader.collection(), {
        tenant,
        status: 'open',
        limit: 10,
      });
      return open.length === 0 ? open : undefined;
    });
  });

  it('rebuilds the alerts read model from the log into documents identical to the live ones', async () => {
    // given the live projection caught up with every alert event
    await eventually('the live projection caught up', async () =>
      (await pipeline.projection.lag()) === 0 ? true : undefined,
    );
    const reader = new ProjectionReader(pipeline.mongo.db, alertsProjection);
    const documents = async () =>
      (await (await reader.collection()).find({}).sort({ _id: 1 }).toArray()).map((d) => [
        d._id,
        d.state,
      ]);
    const live = await documents();
    expect(live).toHaveLength(4);
    const liveBuild = pipeline.projection.buildId();
    // when the projection is rebuilt beside it (write-behind, one checkpoint at the end), in
    // two parts, each in a worker thread
    const lines: string[] = [];
    const result = await rebuildProjection(
      { ...config, GS_PROJECTION_REBUILD_WORKERS: 2 },
      alertsProjection,
      { caughtUpLag: 0, log: (line) => lines.push(line) },
    );
    expect(lines).toContain('rebuild alerts: folding in 2 parts, each in a worker thread');
    expect(result.previous).toBe(liveBuild);
    // then readers and the live service are on the new build, and its documents are the live ones
    expect(pipeline.projection.buildId()).toBe(result.buildId);
    await eventually('readers on the new build', async () =>
      (await reader.collection()).collectionName.endsWith(result.buildId) ? true : undefined,
    );
    expect(await documents()).toEqual(live);
  });
});

describe('alerts processor offline sweep (Kafka, MongoDB)', () => {
  const config = isolatedConfig({ GS_DEVICE_OFFLINE_AFTER_MS: '1500' });
  let pipeline: Awaited<ReturnType<typeof startPipeline>>;

  beforeAll(async () => {
    pipeline = await startPipeline(config, 200);
  });

  it('raises device-offline when a device falls silent and clears it with its next reading', async () => {
    // given a heat pump that reports once
    const firstMs = Date.now();
    await pipeline.publisher.publish([
      registration('heat-pump-1'),
      reading('heat-pump-1', firstMs, { powerW: 800 }),
    ]);
    // when it stays silent longer than GS_DEVICE_OFFLINE_AFTER_MS, then the sweep raises the alert
    const [raised] = await alertsWhenThere(config, 1);
    expect(raised?.type).toBe(EventType.alertRaised);
    expect(raised?.data).toEqual({
      alertId: `heat-pump-1:device-offline:${new Date(firstMs + 1500).toISOString()}`,
      kind: 'device-offline',
      deviceId: 'heat-pump-1',
      siteId: 'site-1',
      at: new Date(firstMs + 1500).toISOString(),
      detail: { lastReadingAt: new Date(firstMs).toISOString(), offlineAfterMs: 1500 },
    });
    // when it reports again, then the alert is cleared at that reading, and raised only once
    // (falling silent again after that reading is a new alert, with an id of its own)
    const backMs = Date.now();
    await pipeline.publisher.publish([reading('heat-pump-1', backMs, { powerW: 700 })]);
    const records = await eventually('the clear', async () => {
      const ofAlert = (await alertsOnTopic(config)).filter(
        (r) => r.data.alertId === raised?.data.alertId,
      );
      return ofAlert.length >= 2 ? ofAlert : undefined;
    });
    expect(records.map((r) => r.type)).toEqual([EventType.alertRaised, EventType.alertCleared]);
    expect(records[1]?.data).toMatchObject({
      alertId: raised?.data.alertId,
      at: new Date(backMs).toISOString(),
      reason: 'recovered',
    });
    const reader = new ProjectionReader(pipeline.mongo.db, alertsProjection);
    const document = await eventually('the cleared offline alert', async () => {
      const alerts = await findAlerts(await reader.collection(), {
        tenant,
        kind: 'device-offline',
        status: 'cleared',
        limit: 10,
      });
      return alerts.find((a) => a.alertId === raised?.data.alertId);
    });
    expect(document).toMatchObject({
      raisedAt: raised?.data.at,
      clearedAt: new Date(backMs).toISOString(),
    });
  });
});

describe('two alerts processors in one group (Kafka, MongoDB)', () => {
  const config = isolatedConfig({ GS_DEVICE_OFFLINE_AFTER_MS: '1500' });

  it('sweep the devices of their own partitions: every silent device raised once', async () => {
    // given two instances, each sweeping the devices of the partitions it holds
    const pipeline = await startPipeline(config, 200);
    const second = await startAlertsProcessor(config, { sweepIntervalMs: 200 });
    const stopAfterAll = teardown(config);
    stopAfterAll(() => second.stop());
    await eventually('both members in the group', async () => {
      const admin = pipeline.kafka.admin();
      await admin.connect();
      try {
        const [group] = (await admin.describeGroups([alertsProcessorGroupId(config)])).groups;
        return group?.state === 'Stable' && group.members.length === 2 ? true : undefined;
      } finally {
        await admin.disconnect();
      }
    });
    // when twelve devices on every partition report once and fall silent
    const devices = Array.from({ length: 12 }, (_, i) => `silent-${i}`);
    const firstMs = Date.now();
    await pipeline.publisher.publish(
      devices.flatMap((id) => [registration(id), reading(id, firstMs, { powerW: 10 })]),
    );
    // then each is raised offline exactly once, whichever instance holds it
    const raised = await eventually('an offline alert for every device', async () => {
      const offline = (await alertsOnTopic(config)).filter(
        (r) => r.type === EventType.alertRaised && r.data.kind === 'device-offline',
      );
      return new Set(offline.map((r) => r.data.deviceId)).size === devices.length
        ? offline
        : undefined;
    });
    expect(raised.map((r) => r.data.deviceId).sort()).toEqual([...devices].sort());
  });
});
