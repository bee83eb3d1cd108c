import { createHash } from 'node:crypto';
import { eventTimeBounds, topicRetention } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { CostFold } from '@gridstream/cost-core';
import type { DirtyDay, SiteCostDay } from '@gridstream/cost-core';
import { EventType } from '@gridstream/events';
import {
  createKafka,
  createTopicsIfMissing,
  kafkaSettings,
  startGlobalTable,
  topicNames,
} from '@gridstream/kafka';
import type { GlobalTable, PositionedEvent } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import { SiteQuarters } from './site-quarters.ts';

/** The collection of site days (docs/cost.md, "Where the figures are"). */
export const SITE_COST_DAYS = 'site_cost_days';

/**
 * A stored day: the day, and a digest of it, so that a day computed again the same (every day at
 * a start, which folds the log again) is not written again.
 */
export type SiteCostDayDocument = SiteCostDay & { readonly _id: string; readonly digest?: string };

const digestOf = (day: SiteCostDay): string =>
  createHash('sha256').update(JSON.stringify(day)).digest('base64url');

export const siteCostDayId = (tenant: string, siteId: string, date: string): string =>
  `${tenant}/${siteId}/${date}`;

export interface CostProcessorOptions {
  readonly log?: (line: string) => void;
  /** How often changed days are written (ms). */
  readonly flushIntervalMs?: number;
  /** Days written in one bulk write at most. */
  readonly writeBatch?: number;
}

export interface CostProcessor {
  /** Resolves once every day changed so far is written. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The state of the cost processor from events: sites, tariff versions, the zones' series and
 * each site's quarter-hour energy summed from its devices. Pure; what it names is written.
 */
export class CostInputs {
  readonly #quarters = new SiteQuarters();
  readonly fold = new CostFold({
    sharesOf: (tenant, siteId, startMs) => this.#quarters.sharesOf(tenant, siteId, startMs),
  });
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void = () => undefined) {
    this.#log = log;
  }

  /** Folds one event in; returns the days it may have changed. */
  apply({ event, offset }: PositionedEvent): DirtyDay[] {
    switch (event.type) {
      case EventType.siteRegistered:
        return this.fold.site({
          tenant: event.tenant,
          siteId: event.data.siteId,
          timeZone: event.data.timeZone,
          carbonZone: event.data.carbonZone ?? null,
        });
      case EventType.siteUpdated: {
        if (event.data.carbonZone === undefined) return [];
        return this.fold.siteCarbonZone(event.tenant, event.data.siteId, event.data.carbonZone);
      }
      case EventType.siteTariffPublished: {
        const { dirty, refused } = this.fold.tariff(
          event.tenant,
          event.data.siteId,
          event.data.tariff,
        );
        if (refused !== undefined)
          this.#log(`cost processor: tariff version ${event.data.tariff.id} left out: ${refused}`);
        return dirty;
      }
      case EventType.dayAheadPricesPublished:
        return this.fold.prices(event.data);
      case EventType.carbonIntensityPublished:
        return this.fold.carbon(event.data);
      case EventType.quarterHourEnergyComputed: {
        const { siteId, timeZone, role } = event.data;
        if (siteId === undefined || timeZone === undefined || role === undefined) return [];
        return this.#quarters
          .apply({
            tenant: event.tenant,
            deviceId: event.data.deviceId,
            siteId,
            timeZone,
            role,
            bucketStartMs: Date.parse(event.data.bucketStart),
            importWh: event.data.importWh,
            exportWh: event.data.exportWh,
            offset: Number(offset),
          })
          .flatMap((site) =>
            this.fold.siteEnergy(site.tenant, site.siteId, site.timeZone, site.figure),
          );
      }
      default:
        return [];
    }
  }
}

/**
 * The cost processor. Every instance reads the devices, market and energy topics whole, from
 * the start, into memory (the global-table way: a site's devices are spread over the energy
 * topic's partitions, and a price applies to every site of its zone), and writes each site's
 * local days to MongoDB: a day whose inputs changed is computed afresh and replaced whole, so
 * writing it twice, or from two instances, leaves the same document. It commits no offsets: a
 * start folds the log again and computes every day again, which is also how a change of the
 * rules reaches old figures (docs/cost.md, "The cost processor"); a day whose digest is the
 * stored one is not written again.
 */
export async function startCostProcessor(
  config: Config,
  options: CostProcessorOptions = {},
): Promise<CostProcessor> {
  const log = options.log ?? (() => undefined);
  const flushIntervalMs = options.flushIntervalMs ?? 250;
  const writeBatch = options.writeBatch ?? 200;
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-cost`));
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const mongo = await connectMongo(config);
  const days: Collection<SiteCostDayDocument> = mongo.db.collection(SITE_COST_DAYS);
  await days.createIndex({ tenant: 1, siteId: 1, date: 1 });

  const inputs = new CostInputs(log);
  const dirty = new Map<string, DirtyDay>();
  const mark = (changed: readonly DirtyDay[]) => {
    for (const day of changed) dirty.set(`${day.siteKey}|${day.date}`, day);
  };

  // What each stored day's digest is, as far as this process knows (read at the start, then
  // kept as it writes): a day computed again the same is not written again.
  const stored = new Map<string, string>();
  for await (const { _id, digest } of days.find({}, { projection: { digest: 1 } }))
    if (typeof digest === 'string') stored.set(_id, digest);
  let written = 0;
  let unchanged = 0;

  async function writeSome(): Promise<void> {
    const taken = [...dirty].slice(0, writeBatch);
    for (const [key] of taken) dirty.delete(key);
    const operations: AnyBulkWriteOperation<SiteCostDayDocument>[] = [];
    const digests = new Map<string, string>();
    for (const [, { siteKey, date }] of taken) {
      const day = inputs.fold.day(siteKey, date);
      if (day === undefined) continue;
      const _id = siteCostDayId(day.tenant, day.siteId, day.date);
      const digest = digestOf(day);
      if (stored.get(_id) === digest) {
        unchanged += 1;
        continue;
      }
      digests.set(_id, digest);
      operations.push({
        replaceOne: { filter: { _id }, replacement: { ...day, digest }, upsert: true },
      });
    }
    try {
      if (operations.length > 0) await days.bulkWrite(operations, { ordered: false });
      for (const [_id, digest] of digests) stored.set(_id, digest);
      written += operations.length;
    } catch (error) {
      // What this write may have stored is not known: each is written again, whatever it holds.
      for (const _id of digests.keys()) stored.delete(_id);
      // Written again at the next tick: a replace is the same however often it is done.
      for (const [key, day] of taken) if (!dirty.has(key)) dirty.set(key, day);
      throw error;
    }
  }

  const tables: GlobalTable[] = [];
  const timeBounds = eventTimeBounds(config);
  for (const role of ['devices', 'market', 'energy'] as const)
    tables.push(
      await startGlobalTable({
        kafka,
        topic: topics[role],
        name: `${config.GS_TOPIC_PREFIX}cost`,
        timeBounds,
        apply: (positioned) => {
          try {
            mark(inputs.apply(positioned));
          } catch (error) {
            // One event the rules cannot use must not stop the others (it is on its topic, and
            // the archive processor dead-letters what does not decode).
            log(
              `cost processor: ${positioned.topic}/${positioned.partition}@${positioned.offset} left out: ${(error as Error).message}`,
            );
          }
        },
      }),
    );
  await Promise.all(tables.map((table) => table.caughtUp()));
  const started = Date.now();
  while (dirty.size > 0) await writeSome();
  log(
    `cost processor: folded the log and wrote ${written} site days (${unchanged} unchanged, not written) in ${Date.now() - started} ms`,
  );

  let writing: Promise<void> = Promise.resolve();
  let failing = false;
  const timer = setInterval(() => {
    writing = writing.then(async () => {
      while (dirty.size > 0) {
        try {
          await writeSome();
          if (failing) log('cost processor: writing again');
          failing = false;
        } catch (error) {
          if (!failing)
            log(`cost processor: writing site days failed (${(error as Error).message}); retrying`);
          failing = true;
          return;
        }
      }
    });
  }, flushIntervalMs);

  return {
    async settled() {
      while (dirty.size > 0 || failing) {
        await writing;
        await new Promise((resolve) => setTimeout(resolve, flushIntervalMs));
      }
      await writing;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(tables.map((table) => table.stop()));
      await writing;
      await mongo.close();
    },
  };
}
