import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf, GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { energyTables } from '@gridstream/questdb';
import { eventually, isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';
import { startEnergyProcessor } from './run.ts';

// A device moves from site A to site B at 10:37:30, the middle of a quarter hour, after its
// readings up to 11:00 were already totalled for A; then a reading of 10:20 arrives late. Its
// energy before the instant stays with A and after it goes to B, in the device rows, in the
// site view and in the published figures.
const config = isolatedConfig({ GS_ENERGY_VIEW_REFRESH_MS: '200' });
const stopAfterAll = teardown(config);
const tenant = 'movers';
const tables = energyTables(config.GS_QDB_TABLE_PREFIX);
const at = (hh: number, mm: number, ss = 0) => Date.UTC(2026, 11, 4, hh, mm, ss);

let sequence = 0;
function event<T extends GridstreamEvent['type']>(
  type: T,
  time: number,
  data: Extract<GridstreamEvent, { type: T }>['data'],
): GridstreamEvent {
  sequence += 1;
  return {
    id: `00000000-0000-7000-8000-${String(sequence).padStart(12, '0')}`,
    type,
    source: 'test',
    subject: 'mover',
    time: new Date(time).toISOString(),
    tenant,
    data,
  } as GridstreamEvent;
}

/** A plug drawing 600 W, a reading a minute; 10 Wh a minute. */
const reading = (ms: number, powerW = 600) =>
  event(EventType.readingReported, ms, { deviceId: 'mover', powerW, quality: 'good' });

describe('a device moved between sites in the middle of a quarter hour', () => {
  it('gives the energy before the instant to the old site and after it to the new one', async () => {
    const kafka = createKafka(kafkaSettings(config, 'move-test'));
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const processor = await startEnergyProcessor(config, () => undefined);
    stopAfterAll(() => processor.stop());
    const reader = stackQuestDbReader();
    stopAfterAll(() => reader.close());

    await publisher.publish([
      event(EventType.deviceRegistered, at(9, 0), {
        deviceId: 'mover',
        siteId: 'site-a',
        kind: 'smart_plug',
        role: 'consumer',
        name: 'mover',
        timeZone: 'UTC',
      }),
    ]);
    // 10:00 to 11:00, but not 10:20
    const minutes = Array.from({ length: 61 }, (_, i) => i).filter((i) => i !== 20);
    await publisher.publish(minutes.map((i) => reading(at(10, i))));
    const bySite = async () =>
      Object.fromEntries(
        (
          await reader.query<{ site_id: string; wh: number }>(
            `SELECT site_id, sum(import_wh) wh FROM "${tables.deviceEnergy15m}" WHERE device_id = 'mover'`,
          )
        ).map((r) => [r.site_id, Math.round(r.wh * 1e6) / 1e6]),
      );
    await eventually('the hour totalled for site A', async () => {
      const sites = await bySite();
      return sites['site-a'] === 600 ? sites : undefined;
    });

    // the move, known only now
    const move: EventOf<typeof EventType.deviceMoved> = {
      ...(event(EventType.deviceMoved, at(11, 5), {
        deviceId: 'mover',
        fromSiteId: 'site-a',
        toSiteId: 'site-b',
        effectiveAt: new Date(at(10, 37, 30)).toISOString(),
        timeZone: 'UTC',
      }) as EventOf<typeof EventType.deviceMoved>),
    };
    await publisher.publish([move]);
    const moved = await eventually('the energy split at 10:37:30', async () => {
      const sites = await bySite();
      return sites['site-a'] === 375 && sites['site-b'] === 225 ? sites : undefined;
    });
    expect(moved).toEqual({ 'site-a': 375, 'site-b': 225 });

    // a late reading from before the move: it changes the 10:15 quarter hour, which stays A's
    await publisher.publish([reading(at(10, 20), 1200)]);
    await eventually('the late reading on site A', async () => {
      const sites = await bySite();
      return sites['site-a'] === 385 && sites['site-b'] === 225 ? sites : undefined;
    });

    // the quarter hour of the move: two rows, one per site, at its start and at the instant
    const rows = await reader.query<{ ts: Date; site_id: string; import_wh: number }>(
      `SELECT ts, site_id, import_wh FROM "${tables.deviceEnergy15m}" WHERE device_id = 'mover' ORDER BY ts`,
    );
    expect(
      rows.map((r) => [
        r.ts.toISOString().slice(11, 19),
        r.site_id,
        Math.round(r.import_wh * 1e6) / 1e6,
      ]),
    ).toEqual([
      ['10:00:00', 'site-a', 150],
      ['10:15:00', 'site-a', 160],
      ['10:30:00', 'site-a', 75],
      ['10:37:30', 'site-b', 75],
      ['10:45:00', 'site-b', 150],
    ]);

    // the site view sums them per site
    const view = await eventually('the site view after the move', async () => {
      const sums = Object.fromEntries(
        (
          await reader.query<{ site_id: string; wh: number }>(
            `SELECT site_id, sum(metered_consumers_wh) wh FROM "${tables.siteEnergy15m}"`,
          )
        ).map((r) => [r.site_id, Math.round(r.wh * 1e6) / 1e6]),
      );
      return sums['site-a'] === 385 && sums['site-b'] === 225 ? sums : undefined;
    });
    expect(view).toEqual({ 'site-a': 385, 'site-b': 225 });

    // and the published figures, the last per site and stretch, say the same
    const last = new Map<string, number>();
    for (const message of await readTopic(config, 'energy')) {
      const data = JSON.parse(message.value) as {
        siteId: string;
        bucketStart: string;
        importWh: number;
      };
      last.set(`${data.siteId}/${data.bucketStart}`, data.importWh);
    }
    const published: Record<string, number> = {};
    for (const [key, wh] of last) {
      const site = key.split('/')[0] ?? '';
      published[site] = Math.round(((published[site] ?? 0) + wh) * 1e6) / 1e6;
    }
    expect(published).toEqual({ 'site-a': 385, 'site-b': 225 });
  }, 120_000);
});
