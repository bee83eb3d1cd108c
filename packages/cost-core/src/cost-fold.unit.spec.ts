import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CARBON_ZONE,
  QUARTER_HOUR_MS,
  WINDOWS,
  anyOrder,
  costScenario,
  sortedInputs,
} from './cost-arbitraries.ts';
import { BERLIN } from './cost-fixtures.ts';
import { totalsOfDays } from './cost-document.ts';
import { decimal } from './decimal.ts';
import type { SiteCostDay } from './cost-document.ts';
import { CostFold, costSiteKey } from './cost-fold.ts';
import type { DirtyDay } from './cost-fold.ts';
import { SiteCostLedger } from './site-cost-ledger.ts';
import type { CostInput } from './site-cost-ledger.ts';
import { storeTotals } from './cost-document.ts';

const TENANT = 't1';
const SITE = 's1';
const KEY = costSiteKey(TENANT, SITE);

/** Folds the inputs, keeping the days each call named; the site's registration comes at `siteAt`. */
function fold(inputs: readonly CostInput[], siteAt: number) {
  const costFold = new CostFold();
  const dirty = new Set<string>();
  const mark = (days: readonly DirtyDay[]) => {
    for (const day of days) dirty.add(`${day.siteKey}|${day.date}`);
  };
  inputs.forEach((input, index) => {
    if (index === siteAt)
      mark(
        costFold.site({ tenant: TENANT, siteId: SITE, timeZone: BERLIN, carbonZone: CARBON_ZONE }),
      );
    switch (input.kind) {
      case 'tariff_version':
        mark(costFold.tariff(TENANT, SITE, input.version).dirty);
        break;
      case 'price_publication':
        mark(costFold.prices(input.publication));
        break;
      case 'carbon_publication':
        mark(costFold.carbon(input.publication));
        break;
      case 'energy':
        mark(costFold.energy(TENANT, SITE, BERLIN, input.energy));
        break;
    }
  });
  if (siteAt >= inputs.length)
    mark(
      costFold.site({ tenant: TENANT, siteId: SITE, timeZone: BERLIN, carbonZone: CARBON_ZONE }),
    );
  return { costFold, dirty };
}

/** Every day's document, by date. */
function days(costFold: CostFold): Map<string, SiteCostDay> {
  const out = new Map<string, SiteCostDay>();
  for (const { siteKey, date } of costFold.allDays()) {
    const day = costFold.day(siteKey, date);
    if (day !== undefined) out.set(date, day);
  }
  return out;
}

describe('CostFold (the cost processor state)', () => {
  const { fromMs, quarters } = WINDOWS.fallBack;

  it('gives the same day documents for any order and repetition of inputs, wherever the registration falls, as the one-site ledger', () => {
    fc.assert(
      fc.property(
        costScenario(fromMs, quarters).chain((scenario) =>
          fc.tuple(
            fc.constant(sortedInputs(scenario)),
            anyOrder(sortedInputs(scenario)),
            fc.nat(40),
          ),
        ),
        ([sorted, delivered, siteAt]) => {
          const live = days(fold(delivered, siteAt).costFold);
          const replay = days(fold(sorted, 0).costFold);
          expect(live).toEqual(replay);
          // and each day is what the one-site ledger of cost-core says of it
          const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: CARBON_ZONE });
          for (const input of sorted) ledger.apply(input);
          for (const day of live.values()) {
            const startMs = Date.parse(day.start);
            const endMs = Date.parse(day.end);
            expect(day.totals).toEqual(storeTotals(ledger.totals(startMs, endMs)));
            expect(day.quarters.map((q) => q.startMs)).toEqual(
              ledger.quarterHours(startMs, endMs).map((q) => q.startMs),
            );
          }
          // and the stored days total again exactly to the sum of their own totals
          const all = [...live.values()];
          const total = totalsOfDays(all);
          expect(total.days).toBe(all.length);
          expect(total.netCost.toString()).toBe(
            all.reduce((sum, day) => sum.plus(day.totals.netCost), decimal('0')).toString(),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('names every day whose document an input changed, so a writer that rewrites only those ends with the full fold', () => {
    fc.assert(
      fc.property(
        costScenario(fromMs, quarters).chain((scenario) => anyOrder(sortedInputs(scenario))),
        (delivered) => {
          // given a writer that, after each input, rewrites only the days named
          const costFold = new CostFold();
          const written = new Map<string, SiteCostDay | undefined>();
          const write = (dirty: readonly DirtyDay[]) => {
            for (const { siteKey, date } of dirty) written.set(date, costFold.day(siteKey, date));
          };
          write(
            costFold.site({
              tenant: TENANT,
              siteId: SITE,
              timeZone: BERLIN,
              carbonZone: CARBON_ZONE,
            }),
          );
          for (const input of delivered) {
            if (input.kind === 'tariff_version')
              write(costFold.tariff(TENANT, SITE, input.version).dirty);
            else if (input.kind === 'price_publication') write(costFold.prices(input.publication));
            else if (input.kind === 'carbon_publication') write(costFold.carbon(input.publication));
            else write(costFold.energy(TENANT, SITE, BERLIN, input.energy));
          }
          // then what it wrote is what a fresh computation of every day gives
          const full = days(costFold);
          expect(new Map([...written].filter(([, day]) => day !== undefined))).toEqual(full);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a tariff version in a second currency and keeps the first', () => {
    const costFold = new CostFold();
    const [scenario] = fc.sample(costScenario(fromMs, quarters), { numRuns: 1, seed: 7 });
    const version = scenario?.versions[0];
    if (version === undefined) throw new Error('the scenario has no tariff version');
    expect(costFold.tariff(TENANT, SITE, version).refused).toBeUndefined();
    const other = version.currency === 'CHF' ? 'EUR' : 'CHF';
    const refused = costFold.tariff(TENANT, SITE, { ...version, id: 'x', currency: other });
    expect(refused.refused).toMatch(new RegExp(`priced in ${version.currency}`));
    expect(refused.dirty).toEqual([]);
    expect(KEY).toBe('t1/s1');
    expect(QUARTER_HOUR_MS).toBe(900_000);
  });
});

describe('CostFold per device', () => {
  it("prices each device's import at the site's import price and intensity of each quarter hour", async () => {
    const { tariffVersion } = await import('./cost-fixtures.ts');
    const costFold = new CostFold();
    costFold.site({ tenant: TENANT, siteId: SITE, timeZone: BERLIN, carbonZone: null });
    costFold.tariff(TENANT, SITE, tariffVersion({ effectiveFrom: '2026-01-01T00:00:00Z' }));
    const startMs = Date.parse('2026-03-02T10:00:00Z');
    const dirty = costFold.siteEnergy(
      TENANT,
      SITE,
      BERLIN,
      { startMs, importWh: 1500, exportWh: 0, selfConsumedWh: null, revision: 1 },
      [
        { deviceId: 'meter', role: 'grid', importWh: 1500, exportWh: 0 },
        { deviceId: 'heat-pump', role: 'consumer', importWh: 1250, exportWh: 0 },
      ],
    );
    expect(dirty).toEqual([{ siteKey: KEY, date: '2026-03-02' }]);
    const day = costFold.day(KEY, '2026-03-02');
    // 1.25 kWh × 0.30; no carbon zone: emissions unknown, not 0
    expect(day?.devices.find((d) => d.deviceId === 'heat-pump')).toMatchObject({
      importWh: '1250',
      importCost: '0.375',
      emissionsG: null,
    });
    expect(day?.devices.map((d) => d.deviceId)).toEqual(['heat-pump', 'meter']);
    // the same figure and shares again change nothing
    expect(
      costFold.siteEnergy(
        TENANT,
        SITE,
        BERLIN,
        { startMs, importWh: 1500, exportWh: 0, selfConsumedWh: null, revision: 1 },
        [
          { deviceId: 'meter', role: 'grid', importWh: 1500, exportWh: 0 },
          { deviceId: 'heat-pump', role: 'consumer', importWh: 1250, exportWh: 0 },
        ],
      ),
    ).toEqual([]);
  });
});

describe('CostFold days without energy', () => {
  it('charges the fee of every day between the first and the last day with energy, in any order of arrival', async () => {
    const { tariffVersion } = await import('./cost-fixtures.ts');
    const figure = (iso: string, revision: number) => ({
      startMs: Date.parse(iso),
      importWh: 1000,
      exportWh: 0,
      selfConsumedWh: null,
      revision,
    });
    // Berlin: Sun 25 Oct 2026 is the 25-hour day, within the span
    const energy = [
      figure('2026-10-23T10:00:00Z', 1),
      figure('2026-10-27T10:00:00Z', 2),
      figure('2026-10-21T10:00:00Z', 3),
    ];
    for (const order of [energy, [...energy].reverse()]) {
      const costFold = new CostFold();
      const named = new Set<string>();
      costFold.site({ tenant: TENANT, siteId: SITE, timeZone: BERLIN, carbonZone: null });
      costFold.tariff(TENANT, SITE, tariffVersion({ effectiveFrom: '2026-01-01T00:00:00Z' }));
      for (const e of order)
        for (const day of costFold.energy(TENANT, SITE, BERLIN, e)) named.add(day.date);
      const dates = ['21', '22', '23', '24', '25', '26', '27'].map((d) => `2026-10-${d}`);
      // every day of the span was named once it belonged to it, and no day outside it
      expect([...named].sort()).toEqual(dates);
      expect(
        costFold
          .allDays()
          .map((d) => d.date)
          .sort(),
      ).toEqual(dates);
      const fee = tariffVersion().dailyFee;
      const gap = costFold.day(KEY, '2026-10-25');
      expect(gap?.quarters).toEqual([]);
      expect(gap?.totals.quarterHours).toBe(0);
      expect(gap?.totals.fees).toBe(decimal(fee).toString());
      expect(gap?.end).toBe('2026-10-25T23:00:00.000Z'); // the 25-hour day
      expect(costFold.day(KEY, '2026-10-23')?.totals.quarterHours).toBe(1);
      expect(costFold.day(KEY, '2026-10-20')).toBeUndefined();
      expect(costFold.day(KEY, '2026-10-28')).toBeUndefined();
    }
  });
});
