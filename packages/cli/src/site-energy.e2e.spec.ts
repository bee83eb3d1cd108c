import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { EventType } from '@gridstream/events';
import type { DeviceRole, GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { ProjectionReader, rebuildProjection, startLiveProjection } from '@gridstream/projection';
import type { LiveProjection } from '@gridstream/projection';
import { connectMongo } from '@gridstream/mongo';
import { siteEnergyProjection } from '@gridstream/projection-site-energy';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const tenant = 'acme';
const headers: Record<string, string> = {};
const siteId = 'site-energy-e2e';

let api: RunningApi;
let publisher: EventPublisher;
let projection: LiveProjection;
const stopAfterAll = teardown(config);

function registration(deviceId: string, role: DeviceRole): GridstreamEvent {
  return {
    id: `01930000-0000-7000-8000-${deviceId.length.toString().padStart(12, '0')}`,
    type: EventType.deviceRegistered,
    source: 'e2e',
    subject: deviceId,
    time: '2026-11-19T00:00:00Z',
    tenant,
    data: {
      deviceId,
      siteId,
      kind: role === 'grid' ? 'meter' : 'solar_inverter',
      role,
      name: deviceId,
      timeZone: 'Europe/Berlin',
    },
  };
}

beforeAll(async () => {
  const kafka = createKafka(kafkaSettings(config, 'e2e-site-energy'));
  await createTopicsIfMissing(
    kafka,
    topicNames(config.GS_TOPIC_PREFIX),
    config.GS_TOPIC_PARTITIONS,
  );
  publisher = await createEventPublisher(kafka, topicNames(config.GS_TOPIC_PREFIX));
  await publisher.publish([registration('grid-meter', 'grid'), registration('pv', 'producer')]);
  let processor: Awaited<ReturnType<typeof startEnergyProcessor>>;
  [processor, projection] = await Promise.all([
    startEnergyProcessor(config),
    startLiveProjection(config, siteEnergyProjection, { lagLogIntervalMs: 0 }),
  ]);
  api = await startApi(config, { listen: false });
  headers.authorization = await bearer(api, tenant);
  stopAfterAll(() => api.close());
  stopAfterAll(() => processor.stop());
  stopAfterAll(() => projection.stop());
  stopAfterAll(() => publisher.disconnect());
});

interface SiteDay {
  devices: { deviceId: string; importWh: number; exportWh: number; quarterHours: number }[];
  totals: {
    gridImportWh: number;
    gridExportWh: number;
    productionWh: number;
    consumptionWh: number;
  };
}

describe('site energy per local day (HTTP, Kafka, energy processor, MongoDB)', () => {
  it('totals the closed quarter hours of a site-day, and is right again after a correction', async () => {
    // given a grid meter and a PV inverter reporting counters every 5 minutes for an hour
    const readings = [];
    for (let i = 0; i <= 12; i++) {
      const time = new Date(Date.UTC(2026, 10, 20, 10, i * 5)).toISOString();
      readings.push({
        deviceId: 'grid-meter',
        time,
        importWh: 1_000 + i * 20,
        exportWh: 500 + i * 10,
      });
      readings.push({ deviceId: 'pv', time, exportWh: 7_000 + i * 50 });
    }
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers,
      payload: { readings },
    });
    expect(posted.statusCode).toBe(202);
    // when the four closed quarter hours of 10:00-11:00 UTC (11:00-12:00 in Berlin) are folded
    const url = `/v1/sites/${siteId}/energy/days/2026-11-20`;
    const day = await eventually(
      'the four closed quarter hours of each device',
      async () => {
        const response = await api.app.inject({ method: 'GET', url, headers });
        if (response.statusCode !== 200) return undefined;
        const body = response.json<SiteDay>();
        return body.devices.every((d) => d.quarterHours === 4) && body.devices.length === 2
          ? body
          : undefined;
      },
      60_000,
    );
    // then the day holds the counted energy: 12 intervals of 20 Wh import, 10 Wh export, 50 Wh PV
    expect(day.totals).toMatchObject({
      gridImportWh: 240,
      gridExportWh: 120,
      productionWh: 600,
      consumptionWh: 720,
    });

    // when the PV inverter sends its 11:00 reading again, corrected (its counter 100 Wh higher)
    const late = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers,
      payload: { readings: [{ deviceId: 'pv', time: '2026-11-20T11:00:00Z', exportWh: 7_700 }] },
    });
    expect(late.statusCode).toBe(202);
    // then the closed 10:45 quarter hour is published again and the day is right again
    const corrected = await eventually('the corrected day', async () => {
      const response = await api.app.inject({ method: 'GET', url, headers });
      const body = response.json<SiteDay>();
      return body.totals.productionWh === 700 ? body : undefined;
    });
    expect(corrected.totals).toMatchObject({ productionWh: 700, consumptionWh: 820 });
  });

  it('rebuilds the site-energy read model from the log into documents identical to the live ones', async () => {
    // given the live projection caught up with the corrected day
    await eventually('the live projection caught up', async () =>
      (await projection.lag()) === 0 ? true : undefined,
    );
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    const reader = new ProjectionReader(mongo.db, siteEnergyProjection);
    const documents = async () =>
      (await (await reader.collection()).find({}).sort({ _id: 1 }).toArray()).map((d) => [
        d._id,
        d.state,
      ]);
    const live = await documents();
    expect(live.length).toBeGreaterThan(0);
    const liveBuild = projection.buildId();
    // when it is rebuilt from the energy topic, corrections and all
    const result = await rebuildProjection(config, siteEnergyProjection, { caughtUpLag: 0 });
    // then the live service and readers are on the new build, with the same documents
    expect(result.previous).toBe(liveBuild);
    expect(projection.buildId()).toBe(result.buildId);
    await eventually('readers on the new build', async () =>
      (await reader.collection()).collectionName.endsWith(result.buildId) ? true : undefined,
    );
    expect(await documents()).toEqual(live);
  });
});
