// What the cost processor's fold costs, in one process without servers:
// node --expose-gc packages/cli/src/bench/cost-fold.ts [--sites N] [--days D]
// N sites of six devices (a grid meter, PV, a battery, three loads), each device a quarter-hour
// figure for every quarter hour of D days, folded as the processor folds the energy topic at
// its start (CostInputs), with a time-of-use tariff per site and an hourly carbon series; then
// every site day computed as the writer computes it. Prints the rates and the heap it holds.
import { parseArgs } from 'node:util';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { CostInputs } from '@gridstream/processor-cost';

const { values } = parseArgs({
  options: { sites: { type: 'string', default: '50' }, days: { type: 'string', default: '30' } },
});
const SITES = Number(values.sites);
const DAYS = Number(values.days);
const QUARTER_MS = 900_000;
const FROM_MS = Date.parse('2026-10-01T00:00:00Z');
const DEVICES = [
  ['meter', 'grid'],
  ['pv', 'producer'],
  ['battery', 'storage'],
  ['heat-pump', 'consumer'],
  ['ev', 'consumer'],
  ['plug', 'consumer'],
] as const;

const gc = (globalThis as { gc?: () => void }).gc;
const heapMiB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

let sequence = 0;
const event = (type: GridstreamEvent['type'], subject: string, data: unknown): GridstreamEvent =>
  ({
    id: `0193a0c0-0000-7000-8000-${String(++sequence).padStart(12, '0')}`,
    type,
    source: 'bench',
    subject,
    time: '2026-11-01T00:00:00Z',
    tenant: 'bench',
    data,
  }) as GridstreamEvent;

const inputs = new CostInputs();
const before = heapMiB();
let offset = 0;
const apply = (e: GridstreamEvent) =>
  inputs.apply({ event: e, topic: 't', partition: 0, offset: String(offset++) });

const everyDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
for (let s = 0; s < SITES; s++) {
  const siteId = `site-${s}`;
  apply(
    event(EventType.siteRegistered, siteId, {
      siteId,
      name: siteId,
      timeZone: 'Europe/Berlin',
      carbonZone: 'DE',
    }),
  );
  apply(
    event(EventType.siteTariffPublished, siteId, {
      siteId,
      tariff: {
        id: 'tou',
        effectiveFrom: '2026-01-01T00:00:00Z',
        publishedAt: '2025-12-01T00:00:00Z',
        currency: 'EUR',
        vatRate: '0.19',
        exportVatRate: '0',
        dailyFee: '0.45',
        importPrice: {
          kind: 'time_of_use',
          seasons: [
            {
              name: 'all year',
              from: '01-01',
              to: '12-31',
              periods: [
                {
                  name: 'night',
                  weekdays: everyDay,
                  from: '00:00',
                  to: '07:00',
                  pricePerKWh: '0.26',
                },
                {
                  name: 'day',
                  weekdays: everyDay,
                  from: '07:00',
                  to: '24:00',
                  pricePerKWh: '0.34',
                },
              ],
            },
          ],
        },
        exportPrice: { kind: 'fixed', pricePerKWh: '0.08' },
      },
    }),
  );
}
for (let d = 0; d < DAYS; d++)
  apply(
    event(EventType.carbonIntensityPublished, 'DE', {
      id: `de-${d}`,
      zone: 'DE',
      publishedAt: '2026-11-01T00:00:00Z',
      resolutionMinutes: 60,
      points: Array.from({ length: 24 }, (_, h) => ({
        start: new Date(FROM_MS + (d * 24 + h) * 3_600_000).toISOString(),
        gramsPerKWh: String(300 + h),
      })),
    }),
  );

const quarters = DAYS * 96;
const t0 = performance.now();
let figures = 0;
const dirty = new Set<string>();
for (let q = 0; q < quarters; q++) {
  const bucketStart = new Date(FROM_MS + q * QUARTER_MS).toISOString();
  for (let s = 0; s < SITES; s++)
    for (const [name, role] of DEVICES) {
      const deviceId = `site-${s}-${name}`;
      for (const day of apply(
        event(EventType.quarterHourEnergyComputed, deviceId, {
          deviceId,
          siteId: `site-${s}`,
          role,
          timeZone: 'Europe/Berlin',
          bucketStart,
          importWh: role === 'producer' ? 0 : 100 + (q % 7),
          exportWh: role === 'producer' || role === 'grid' ? 20 + (q % 5) : 0,
          measuredMs: 900_000,
          unknownMs: 0,
          quality: 'good',
          flags: [],
        }),
      ))
        dirty.add(`${day.siteKey}|${day.date}`);
      figures++;
    }
}
const foldMs = performance.now() - t0;
const held = heapMiB() - before;
const t1 = performance.now();
let bytes = 0;
for (const key of dirty) {
  const [siteKey = '', date = ''] = key.split('|');
  bytes += JSON.stringify(inputs.fold.day(siteKey, date)).length;
}
const daysMs = performance.now() - t1;
console.log(
  `cost fold: ${SITES} sites x 6 devices x ${DAYS} days = ${figures.toLocaleString('en-US')} device quarter hours`,
);
console.log(
  `  fold: ${Math.round(figures / (foldMs / 1000)).toLocaleString('en-US')} device quarter hours/s (${(foldMs / 1000).toFixed(1)} s)`,
);
console.log(
  `  held: ${held.toFixed(0)} MiB of heap after the fold (${((held * 2 ** 20) / figures).toFixed(0)} bytes a device quarter hour)`,
);
console.log(
  `  days: ${dirty.size.toLocaleString('en-US')} site days computed in ${(daysMs / 1000).toFixed(1)} s (${(daysMs / dirty.size).toFixed(1)} ms a day, ${Math.round(bytes / dirty.size / 1024)} KiB of JSON a day)`,
);
