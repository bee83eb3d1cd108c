import { describe, expect, it } from 'vitest';
import { BERLIN, ms, tariffVersion, workdayPeakPeriods } from './cost-fixtures.ts';
import type { QuarterHourEnergy } from './energy-book.ts';
import type { PricePublication } from '@gridstream/events';
import { SiteCostLedger } from './site-cost-ledger.ts';
import type { TariffVersion } from '@gridstream/events';

const site = { timeZone: BERLIN, carbonZone: 'DE' };

function energy(
  startIso: string,
  importWh: number,
  exportWh = 0,
  selfConsumedWh: number | null = null,
): QuarterHourEnergy {
  return { startMs: ms(startIso), importWh, exportWh, selfConsumedWh, revision: 1 };
}

function ledgerWith(version: TariffVersion, ...figures: QuarterHourEnergy[]): SiteCostLedger {
  const ledger = new SiteCostLedger(site);
  ledger.apply({ kind: 'tariff_version', version });
  for (const figure of figures) ledger.apply({ kind: 'energy', energy: figure });
  return ledger;
}

const only = (ledger: SiteCostLedger, startIso: string) => {
  const [cost] = ledger.quarterHours(ms(startIso), ms(startIso) + 15 * 60_000);
  if (cost === undefined) throw new Error(`no figure at ${startIso}`);
  return cost;
};

const dynamic = tariffVersion({
  importPrice: {
    kind: 'dynamic',
    biddingZone: 'DE-LU',
    markupPerKWh: '0.20',
    floorPerKWh: '0.05',
    capPerKWh: '0.60',
  },
  exportPrice: { kind: 'dynamic', biddingZone: 'DE-LU', markupPerKWh: '-0.01', floorPerKWh: '0' },
});

function prices(
  id: string,
  publishedAt: string,
  resolutionMinutes: 15 | 60,
  points: [string, string][],
  currency = 'EUR',
): PricePublication {
  return {
    id,
    biddingZone: 'DE-LU',
    publishedAt,
    currency,
    resolutionMinutes,
    points: points.map(([start, pricePerMWh]) => ({ start, pricePerMWh })),
  };
}

describe('quarterHourCost: fixed and time-of-use prices', () => {
  it('given 250 Wh at 0.30/kWh with 19 % VAT, then the cost and VAT are exact', () => {
    const cost = only(
      ledgerWith(tariffVersion(), energy('2026-02-02T10:00:00Z', 250, 100)),
      '2026-02-02T10:00:00Z',
    );
    expect(cost.importCost?.toString()).toBe('0.075');
    expect(cost.importVat?.toString()).toBe('0.01425');
    expect(cost.exportEarnings?.toString()).toBe('0.008');
    expect(cost.exportVat?.toString()).toBe('0');
    expect(cost.period).toBe('fixed');
    expect(cost.localStart).toBe('2026-02-02T11:00:00+01:00');
  });

  it('given a fractional Wh figure, then the cost is its decimal text times the price, no float error', () => {
    const cost = only(
      ledgerWith(tariffVersion(), energy('2026-02-02T10:00:00Z', 0.1 + 0.2)),
      '2026-02-02T10:00:00Z',
    );
    // 0.1 + 0.2 is the double 0.30000000000000004; its text is what is priced, exactly.
    expect(cost.importCost?.toString()).toBe('0.000090000000000000012');
  });

  it('given a workday peak 07:00–20:00 local, then 06:45 is off-peak, 07:00 peak, and Saturday 10:00 off-peak', () => {
    const version = tariffVersion({
      importPrice: {
        kind: 'time_of_use',
        seasons: [{ name: 'all', from: '01-01', to: '12-31', periods: workdayPeakPeriods() }],
      },
    });
    // Monday 2026-02-02, Berlin is UTC+1: 06:45 local = 05:45Z.
    const ledger = ledgerWith(
      version,
      energy('2026-02-02T05:45:00Z', 1000),
      energy('2026-02-02T06:00:00Z', 1000),
      energy('2026-02-07T09:00:00Z', 1000),
    );
    expect(only(ledger, '2026-02-02T05:45:00Z')).toMatchObject({ period: 'off_peak' });
    expect(only(ledger, '2026-02-02T05:45:00Z').importCost?.toString()).toBe('0.25');
    expect(only(ledger, '2026-02-02T06:00:00Z')).toMatchObject({ period: 'peak' });
    expect(only(ledger, '2026-02-02T06:00:00Z').importCost?.toString()).toBe('0.4');
    expect(only(ledger, '2026-02-07T09:00:00Z')).toMatchObject({ period: 'off_peak' });
  });

  it('given winter and summer seasons by local date, then the local date picks the season (Berlin’s 1 April begins at 22:00Z)', () => {
    const flat = (name: string, price: string) => [
      {
        name,
        weekdays: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as (
          'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'
        )[],
        from: '00:00',
        to: '24:00',
        pricePerKWh: price,
      },
    ];
    const version = tariffVersion({
      importPrice: {
        kind: 'time_of_use',
        seasons: [
          { name: 'winter', from: '10-01', to: '03-31', periods: flat('winter', '0.35') },
          { name: 'summer', from: '04-01', to: '09-30', periods: flat('summer', '0.28') },
        ],
      },
    });
    const ledger = ledgerWith(
      version,
      energy('2026-03-31T21:45:00Z', 1000),
      energy('2026-03-31T22:00:00Z', 1000),
    );
    expect(only(ledger, '2026-03-31T21:45:00Z')).toMatchObject({
      period: 'winter',
      localDate: '2026-03-31',
    });
    expect(only(ledger, '2026-03-31T22:00:00Z')).toMatchObject({
      period: 'summer',
      localDate: '2026-04-01',
    });
  });
});

describe('quarterHourCost: dynamic prices', () => {
  it('given an hourly day-ahead price, then it applies to its four quarter hours with the markup, in € per kWh', () => {
    const ledger = ledgerWith(
      dynamic,
      ...['00', '15', '30', '45'].map((m) => energy(`2026-02-02T10:${m}:00Z`, 1000)),
    );
    ledger.apply({
      kind: 'price_publication',
      publication: prices('p1', '2026-02-01T12:00:00Z', 60, [['2026-02-02T10:00:00Z', '85.12']]),
    });
    const costs = ledger.quarterHours(ms('2026-02-02T10:00:00Z'), ms('2026-02-02T11:00:00Z'));
    expect(costs.map((c) => c.importPricePerKWh?.toString())).toEqual([
      '0.28512',
      '0.28512',
      '0.28512',
      '0.28512',
    ]);
    expect(costs.every((c) => c.period === 'dynamic' && c.missing.length === 1)).toBe(true);
  });

  it('given a correction published later for one quarter hour, then it replaces that quarter hour only, in either order', () => {
    const hourly = prices('p1', '2026-02-01T12:00:00Z', 60, [['2026-02-02T10:00:00Z', '80']]);
    const correction = prices('p2', '2026-02-01T15:00:00Z', 15, [['2026-02-02T10:15:00Z', '120']]);
    const figures = ['00', '15', '30'].map((m) => energy(`2026-02-02T10:${m}:00Z`, 1000));
    for (const order of [
      [hourly, correction],
      [correction, hourly],
    ]) {
      const ledger = ledgerWith(dynamic, ...figures);
      for (const publication of order) ledger.apply({ kind: 'price_publication', publication });
      const costs = ledger.quarterHours(ms('2026-02-02T10:00:00Z'), ms('2026-02-02T11:00:00Z'));
      expect(costs.map((c) => c.importPricePerKWh?.toString())).toEqual(['0.28', '0.32', '0.28']);
    }
  });

  it('given two publications at the same instant, then the greater id wins, in either order', () => {
    const a = prices('a', '2026-02-01T12:00:00Z', 15, [['2026-02-02T10:00:00Z', '10']]);
    const b = prices('b', '2026-02-01T12:00:00Z', 15, [['2026-02-02T10:00:00Z', '20']]);
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const ledger = ledgerWith(dynamic, energy('2026-02-02T10:00:00Z', 1000));
      for (const publication of order) ledger.apply({ kind: 'price_publication', publication });
      expect(only(ledger, '2026-02-02T10:00:00Z').importPricePerKWh?.toString()).toBe('0.22');
    }
  });

  it('given a negative day-ahead price, then the floor holds the import price and the export floor keeps earnings at 0', () => {
    const ledger = ledgerWith(dynamic, energy('2026-02-02T10:00:00Z', 1000, 2000));
    ledger.apply({
      kind: 'price_publication',
      publication: prices('p', '2026-02-01T12:00:00Z', 15, [['2026-02-02T10:00:00Z', '-500']]),
    });
    const cost = only(ledger, '2026-02-02T10:00:00Z');
    expect(cost.importPricePerKWh?.toString()).toBe('0.05');
    expect(cost.exportPricePerKWh?.toString()).toBe('0');
    expect(cost.exportEarnings?.toString()).toBe('0');
  });

  it('given a price spike, then the cap holds the import price', () => {
    const ledger = ledgerWith(dynamic, energy('2026-02-02T10:00:00Z', 1000));
    ledger.apply({
      kind: 'price_publication',
      publication: prices('p', '2026-02-01T12:00:00Z', 15, [['2026-02-02T10:00:00Z', '3000']]),
    });
    expect(only(ledger, '2026-02-02T10:00:00Z').importCost?.toString()).toBe('0.6');
  });

  it('given no price for the interval, then import cost and earnings are null, not 0, and both are named missing', () => {
    const ledger = ledgerWith(dynamic, energy('2026-02-02T10:00:00Z', 1000, 500));
    const cost = only(ledger, '2026-02-02T10:00:00Z');
    expect(cost.importCost).toBeNull();
    expect(cost.exportEarnings).toBeNull();
    expect(cost.importVat).toBeNull();
    expect(cost.missing).toEqual(['import_price', 'export_price', 'carbon_intensity']);
  });

  it('given no price but no energy in that direction, then that direction is 0 and not missing', () => {
    const ledger = ledgerWith(dynamic, energy('2026-02-02T10:00:00Z', 1000, 0));
    const cost = only(ledger, '2026-02-02T10:00:00Z');
    expect(cost.exportEarnings?.toString()).toBe('0');
    expect(cost.missing).toEqual(['import_price', 'carbon_intensity']);
  });

  it('given a price published in another currency, then it is not used: the price is missing', () => {
    const ledger = ledgerWith(dynamic, energy('2026-02-02T10:00:00Z', 1000));
    ledger.apply({
      kind: 'price_publication',
      publication: prices('p', '2026-02-01T12:00:00Z', 15, [['2026-02-02T10:00:00Z', '80']], 'SEK'),
    });
    expect(only(ledger, '2026-02-02T10:00:00Z').missing).toContain('import_price');
  });

  it('given a quarter hour before the first tariff version, then it has no cost and names the tariff missing', () => {
    const ledger = ledgerWith(tariffVersion(), energy('2025-12-31T22:45:00Z', 1000));
    const cost = only(ledger, '2025-12-31T22:45:00Z');
    expect(cost).toMatchObject({ tariffVersionId: null, currency: null, importCost: null });
    expect(cost.missing[0]).toBe('tariff');
  });
});

describe('quarterHourCost: emissions', () => {
  it('given an hourly intensity of 380 g/kWh, then emissions are import × intensity and avoided are self-consumed × intensity', () => {
    const ledger = ledgerWith(tariffVersion(), energy('2026-02-02T10:15:00Z', 500, 0, 1200));
    ledger.apply({
      kind: 'carbon_publication',
      publication: {
        id: 'c1',
        zone: 'DE',
        publishedAt: '2026-02-02T12:00:00Z',
        resolutionMinutes: 60,
        points: [{ start: '2026-02-02T10:00:00Z', gramsPerKWh: '380' }],
      },
    });
    const cost = only(ledger, '2026-02-02T10:15:00Z');
    expect(cost.emissionsG?.toString()).toBe('190');
    expect(cost.avoidedEmissionsG?.toString()).toBe('456');
    expect(cost.missing).toEqual([]);
  });

  it('given no self-consumption figure, then avoided emissions are null without making the quarter hour incomplete', () => {
    const ledger = ledgerWith(tariffVersion(), energy('2026-02-02T10:15:00Z', 500));
    ledger.apply({
      kind: 'carbon_publication',
      publication: {
        id: 'c1',
        zone: 'DE',
        publishedAt: '2026-02-02T12:00:00Z',
        resolutionMinutes: 60,
        points: [{ start: '2026-02-02T10:00:00Z', gramsPerKWh: '380' }],
      },
    });
    const cost = only(ledger, '2026-02-02T10:15:00Z');
    expect(cost.avoidedEmissionsG).toBeNull();
    expect(cost.missing).toEqual([]);
  });
});
