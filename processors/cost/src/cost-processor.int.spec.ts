import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent, TariffVersion } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  createTopicsIfMissing,
  kafkaSettings,
  topicNames,
} from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { SITE_COST_DAYS, startCostProcessor } from './run.ts';
import type { SiteCostDayDocument } from './run.ts';

// A Berlin site with a grid meter and a solar inverter, priced at a fixed 0.30 EUR/kWh with
// 0.08 feed-in and a 0.50 daily fee, carbon from zone DE. Its energy, its tariff and the
// carbon series arrive through the real Kafka; the processor's days land in the real FerretDB.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'costs';
const site = 'home';

let sequence = 0;
function event<T extends GridstreamEvent['type']>(
  type: T,
  subject: string,
  data: Extract<GridstreamEvent, { type: T }>['data'],
): GridstreamEvent {
  sequence += 1;
  return {
    id: `00000000-0000-7000-8000-${String(sequence).padStart(12, '0')}`,
    type,
    source: 'test',
    subject,
    time: '2026-11-01T00:00:00.000Z',
    tenant,
    data,
  } as GridstreamEvent;
}

const tariff = (overrides: Partial<TariffVersion>): TariffVersion => ({
  id: 'v1',
  effectiveFrom: '2026-10-01T00:00:00Z',
  publishedAt: '2026-09-01T00:00:00Z',
  currency: 'EUR',
  vatRate: '0.19',
  exportVatRate: '0',
  dailyFee: '0.50',
  importPrice: { kind: 'fixed', pricePerKWh: '0.30' },
  exportPrice: { kind: 'fixed', pricePerKWh: '0.08' },
  ...overrides,
});

/** One device's figure for the quarter hour at `bucketStart`. */
const quarter = (
  deviceId: string,
  role: 'grid' | 'producer',
  bucketStart: string,
  importWh: number,
  exportWh: number,
) =>
  event(EventType.quarterHourEnergyComputed, deviceId, {
    deviceId,
    siteId: site,
    role,
    timeZone: 'Europe/Berlin',
    bucketStart,
    importWh,
    exportWh,
    measuredMs: 900_000,
    unknownMs: 0,
    quality: 'good',
    flags: [],
  });

describe('the cost processor on the real Kafka and FerretDB', () => {
  it('prices each quarter hour, follows a late correction and a late tariff, and a restart writes the same days', async () => {
    const kafka = createKafka(kafkaSettings(config, 'cost-test'));
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const mongo = await connectMongo(config);
    stopAfterAll(() => mongo.close());
    const days = mongo.db.collection<SiteCostDayDocument>(SITE_COST_DAYS);
    const day = (date: string) => days.findOne({ _id: `${tenant}/${site}/${date}` });

    // given the site, its tariff, the carbon series, and two quarter hours of energy
    await publisher.publish([
      event(EventType.siteRegistered, site, {
        siteId: site,
        name: 'Home',
        timeZone: 'Europe/Berlin',
        carbonZone: 'DE',
      }),
      event(EventType.siteTariffPublished, site, { siteId: site, tariff: tariff({}) }),
      event(EventType.carbonIntensityPublished, 'DE', {
        id: 'de-2026-10-25',
        zone: 'DE',
        publishedAt: '2026-10-26T06:00:00Z',
        resolutionMinutes: 60,
        points: [{ start: '2026-10-25T10:00:00Z', gramsPerKWh: '400' }],
      }),
      // 11:00 local (UTC+1 after the change): 1 kWh imported, 0.5 kWh exported, 2 kWh produced
      quarter('meter', 'grid', '2026-10-25T10:00:00Z', 1000, 500),
      quarter('pv', 'producer', '2026-10-25T10:00:00Z', 0, 2000),
      quarter('meter', 'grid', '2026-10-25T10:15:00Z', 2000, 0),
    ]);
    let processor = await startCostProcessor(config);
    stopAfterAll(() => processor.stop());

    // then the day has both quarter hours priced, its fee, and the emissions of its import
    const first = await eventually('the day written', async () => {
      const d = await day('2026-10-25');
      return d?.quarters.length === 2 ? d : undefined;
    });
    expect(first.totals.currency).toBe('EUR');
    expect(first.totals.importCost).toBe('0.9'); // 3 kWh × 0.30
    expect(first.totals.exportEarnings).toBe('0.04'); // 0.5 kWh × 0.08
    expect(first.totals.fees).toBe('0.5');
    expect(first.totals.netCost).toBe('1.36');
    expect(first.totals.emissionsG).toBe('1200'); // 3 kWh × 400 g
    // self-consumed 1.5 kWh (2 produced, 0.5 exported) avoided 600 g
    expect(first.totals.avoidedEmissionsG).toBe('600');
    expect(first.date).toBe('2026-10-25');
    expect(first.start).toBe('2026-10-24T22:00:00.000Z');
    expect(first.end).toBe('2026-10-25T23:00:00.000Z'); // the 25-hour day
    // and each device's day: its import at the site's price and the grid's intensity
    expect(first.devices).toEqual([
      {
        deviceId: 'meter',
        role: 'grid',
        quarterHours: 2,
        importWh: '3000',
        exportWh: '500',
        importCost: '0.9',
        emissionsG: '1200',
        unpricedQuarterHours: 0,
      },
      {
        deviceId: 'pv',
        role: 'producer',
        quarterHours: 1,
        importWh: '0',
        exportWh: '2000',
        importCost: '0',
        emissionsG: '0',
        unpricedQuarterHours: 0,
      },
    ]);

    // when a late figure corrects the meter's 11:15 and a tariff published later corrects the
    // price from the start of October
    await publisher.publish([
      quarter('meter', 'grid', '2026-10-25T10:15:00Z', 3000, 0),
      event(EventType.siteTariffPublished, site, {
        siteId: site,
        tariff: tariff({
          id: 'v1-corrected',
          publishedAt: '2026-10-30T00:00:00Z',
          importPrice: { kind: 'fixed', pricePerKWh: '0.32' },
        }),
      }),
    ]);
    // then the day is computed again from both: 4 kWh × 0.32
    const corrected = await eventually('the corrections applied', async () => {
      const d = await day('2026-10-25');
      return d?.totals.importCost === '1.28' ? d : undefined;
    });
    expect(corrected.quarters.map((q) => q.tariffVersionId)).toEqual([
      'v1-corrected',
      'v1-corrected',
    ]);
    expect(corrected.totals.emissionsG).toBe('1600');

    // and a processor started again on the same log with the days stored writes none again
    await processor.settled();
    const live = await days.find({}).sort({ _id: 1 }).toArray();
    await processor.stop();
    const lines: string[] = [];
    processor = await startCostProcessor(config, { log: (line) => lines.push(line) });
    await processor.settled();
    expect(lines.find((line) => line.includes('folded the log'))).toMatch(
      /wrote 0 site days \(1 unchanged, not written\)/,
    );
    expect(await days.find({}).sort({ _id: 1 }).toArray()).toEqual(live);
    await processor.stop();
    // and one started on the same log from nothing writes the same documents
    await days.deleteMany({});
    processor = await startCostProcessor(config);
    stopAfterAll(() => processor.stop());
    await processor.settled();
    const replayed = await days.find({}).sort({ _id: 1 }).toArray();
    expect(replayed).toEqual(live);
    expect(replayed).toHaveLength(1);
  });
});
