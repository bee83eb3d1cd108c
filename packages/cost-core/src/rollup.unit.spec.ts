import { describe, expect, it } from 'vitest';
import { BERLIN, ms, tariffVersion } from './cost-fixtures.ts';
import { decimal, presentMoney } from './decimal.ts';
import { SiteCostLedger } from './site-cost-ledger.ts';

const QUARTER_HOUR_MS = 15 * 60_000;

/** A ledger with one version and 100 Wh import in every quarter hour of [fromIso, toIso). */
function everyQuarterHour(fromIso: string, toIso: string, timeZone = BERLIN): SiteCostLedger {
  const ledger = new SiteCostLedger({ timeZone, carbonZone: null });
  ledger.apply({ kind: 'tariff_version', version: tariffVersion() });
  for (let startMs = ms(fromIso); startMs < ms(toIso); startMs += QUARTER_HOUR_MS) {
    ledger.apply({
      kind: 'energy',
      energy: { startMs, importWh: 100, exportWh: 0, selfConsumedWh: null, revision: 1 },
    });
  }
  return ledger;
}

describe('day roll-ups in the site’s time zone', () => {
  it('given Berlin’s spring-forward day, then it has 92 quarter hours and one fee', () => {
    // 2026-03-29 local midnight is 23:00Z the day before; the next midnight is 22:00Z.
    const day = everyQuarterHour('2026-03-28T20:00:00Z', '2026-03-30T02:00:00Z').rollup(
      'day',
      ms('2026-03-29T12:00:00Z'),
    );
    expect(day).toMatchObject({ label: '2026-03-29', quarterHours: 92, days: 1 });
    expect(day.fees.toString()).toBe('0.5');
    expect(day.importWh.toString()).toBe('9200');
  });

  it('given Berlin’s fall-back day, then it has 100 quarter hours and one fee', () => {
    const day = everyQuarterHour('2026-10-24T20:00:00Z', '2026-10-26T02:00:00Z').rollup(
      'day',
      ms('2026-10-25T12:00:00Z'),
    );
    expect(day).toMatchObject({ label: '2026-10-25', quarterHours: 100, days: 1 });
    expect(day.fees.toString()).toBe('0.5');
  });

  it('given a month, then each local day pays one fee: 31 in March, whatever the DST change', () => {
    const month = everyQuarterHour('2026-03-01T00:00:00Z', '2026-03-01T01:00:00Z').rollup(
      'month',
      ms('2026-03-15T12:00:00Z'),
    );
    expect(month).toMatchObject({ label: '2026-03', days: 31 });
    expect(month.fees.toString()).toBe('15.5');
    expect(month.startMs).toBe(ms('2026-02-28T23:00:00Z'));
    expect(month.endMs).toBe(ms('2026-03-31T22:00:00Z'));
  });

  it('given a day in Kolkata (+05:30), then the day starts at 18:30Z and has 96 quarter hours', () => {
    const day = everyQuarterHour(
      '2026-05-01T00:00:00Z',
      '2026-05-02T00:00:00Z',
      'Asia/Kolkata',
    ).rollup('day', ms('2026-05-01T12:00:00Z'));
    expect(day.startMs).toBe(ms('2026-04-30T18:30:00Z'));
    expect(day.quarterHours).toBe(96 - 22);
  });
});

describe('VAT and net cost', () => {
  it('given import, export and a fee, then net = import + fee − export and VAT is each line at its rate', () => {
    const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: null });
    ledger.apply({ kind: 'tariff_version', version: tariffVersion({ exportVatRate: '0.19' }) });
    ledger.apply({
      kind: 'energy',
      energy: {
        startMs: ms('2026-02-02T10:00:00Z'),
        importWh: 2000,
        exportWh: 1000,
        selfConsumedWh: null,
        revision: 1,
      },
    });
    const day = ledger.rollup('day', ms('2026-02-02T10:00:00Z'));
    // import 2 kWh × 0.30 = 0.6; export 1 kWh × 0.08 = 0.08; fee 0.5.
    expect(day.netCost.toString()).toBe('1.02');
    // VAT 0.19 × (0.6 + 0.5) − 0.19 × 0.08 = 0.1938
    expect(day.vat.toString()).toBe('0.1938');
    expect(day.grossCost.toString()).toBe('1.2138');
    expect(presentMoney(day.grossCost, 'EUR')).toBe('1.21');
  });

  it('given a VAT rate change between versions within a month, then each line keeps its own rate', () => {
    const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: null });
    ledger.apply({ kind: 'tariff_version', version: tariffVersion({ dailyFee: '0' }) });
    ledger.apply({
      kind: 'tariff_version',
      version: tariffVersion({
        id: 'v2',
        dailyFee: '0',
        vatRate: '0.16',
        effectiveFrom: '2026-06-30T22:00:00Z',
      }),
    });
    for (const iso of ['2026-06-15T10:00:00Z', '2026-07-15T10:00:00Z']) {
      ledger.apply({
        kind: 'energy',
        energy: {
          startMs: ms(iso),
          importWh: 1000,
          exportWh: 0,
          selfConsumedWh: null,
          revision: 1,
        },
      });
    }
    const year = ledger.rollup('year', ms('2026-07-01T00:00:00Z'));
    expect(year.vat.toString()).toBe(
      decimal('0.3').times('0.19').plus(decimal('0.3').times('0.16')).toString(),
    );
  });
});

describe('presentation rounding', () => {
  it('rounds half up to the currency’s minor unit, and only there', () => {
    expect(presentMoney(decimal('0.005'), 'EUR')).toBe('0.01');
    expect(presentMoney(decimal('-0.005'), 'EUR')).toBe('-0.01');
    expect(presentMoney(decimal('0.00499999'), 'EUR')).toBe('0.00');
    expect(presentMoney(decimal('12.5'), 'JPY')).toBe('13');
    expect(presentMoney(decimal('1.0005'), 'KWD')).toBe('1.001');
  });
});

describe('incomplete roll-ups', () => {
  it('given a dynamic tariff with one quarter hour unpriced, then the day sums the priced ones and names the other', () => {
    const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: null });
    ledger.apply({
      kind: 'tariff_version',
      version: tariffVersion({
        importPrice: { kind: 'dynamic', biddingZone: 'DE-LU', markupPerKWh: '0.2' },
      }),
    });
    for (const iso of ['2026-02-02T10:00:00Z', '2026-02-02T10:15:00Z']) {
      ledger.apply({
        kind: 'energy',
        energy: {
          startMs: ms(iso),
          importWh: 1000,
          exportWh: 0,
          selfConsumedWh: null,
          revision: 1,
        },
      });
    }
    ledger.apply({
      kind: 'price_publication',
      publication: {
        id: 'p',
        biddingZone: 'DE-LU',
        publishedAt: '2026-02-01T12:00:00Z',
        currency: 'EUR',
        resolutionMinutes: 15,
        points: [{ start: '2026-02-02T10:00:00Z', pricePerMWh: '100' }],
      },
    });
    const day = ledger.rollup('day', ms('2026-02-02T10:00:00Z'));
    expect(day.costComplete).toBe(false);
    expect(day.importCost.toString()).toBe('0.3');
    expect(day.incomplete.filter((q) => q.missing.includes('import_price'))).toEqual([
      { startMs: ms('2026-02-02T10:15:00Z'), missing: ['import_price', 'carbon_intensity'] },
    ]);
  });

  it('given days before the first tariff version, then they pay no fee and are named', () => {
    const ledger = new SiteCostLedger({ timeZone: BERLIN, carbonZone: null });
    ledger.apply({
      kind: 'tariff_version',
      version: tariffVersion({ effectiveFrom: '2026-01-02T23:00:00Z' }),
    });
    const month = ledger.rollup('month', ms('2026-01-15T00:00:00Z'));
    expect(month.daysWithoutFee).toEqual(['2026-01-01', '2026-01-02']);
    expect(month.fees.toString()).toBe('14.5');
    expect(month.costComplete).toBe(false);
  });
});
