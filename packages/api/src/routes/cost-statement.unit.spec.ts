import { describe, expect, it } from 'vitest';
import { decimal, sum, totalsOfDays } from '@gridstream/cost-core';
import { calendarBuckets } from './cost-calendar.ts';
import { calendarSpan, daySpans, presentSpan, quarterHourSpans } from './cost-buckets.ts';
import { BERLIN, costDays } from './cost-days.fixture.ts';
import { wantsCsv } from './cost-negotiation.ts';
import { STATEMENT_CSV_COLUMNS, statementCsv, statementOf } from './cost-statement.ts';

const site = { siteId: 'home', timeZone: BERLIN };
// 2026-10-24 00:00 to 2026-10-27 00:00 local (the 25th has 25 hours)
const days = costDays({
  tenant: 't',
  siteId: 'home',
  fromIso: '2026-10-23T22:00:00Z',
  toIso: '2026-10-26T23:00:00Z',
});

/** A small RFC 4180 reader: quoted fields with doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    const next = text.charAt(i + 1);
    if (quoted && c === '"' && next === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(field);
      field = '';
    } else if (!quoted && c === '\r' && next === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  return rows;
}

describe('cost buckets from stored days', () => {
  it('has 96, 100 and 96 quarter hours in the three days, each adding up to its day', () => {
    expect(days.map((d) => [d.date, d.quarters.length])).toEqual([
      ['2026-10-24', 96],
      ['2026-10-25', 100],
      ['2026-10-26', 96],
    ]);
    const quarters = quarterHourSpans(days);
    expect(quarters).toHaveLength(292);
    for (const day of days) {
      const ofDay = quarters.filter(
        (q) => q.startMs >= Date.parse(day.start) && q.startMs < Date.parse(day.end),
      );
      expect(sum(ofDay.map((q) => decimal(q.totals.grossCost))).toString()).toBe(
        day.totals.grossCost,
      );
      // the fee is in the quarter hour at local midnight
      expect(ofDay[0]?.totals.fees).toBe('0.45');
      expect(ofDay[1]?.totals.fees).toBe('0');
    }
  });

  it('totals a month exactly from its days, and says the days in UTC and on the local clock', () => {
    const [october] = calendarBuckets(
      { fromDate: '2026-10-01', toDate: '2026-11-01' },
      'month',
      BERLIN,
    );
    if (october === undefined) throw new Error('no October');
    const month = calendarSpan(october, days);
    const exactSum = (field: 'netCost' | 'vat' | 'grossCost' | 'emissionsG') =>
      sum(daySpans(days).map((d) => decimal(d.totals[field]))).toString();
    for (const field of ['netCost', 'vat', 'grossCost', 'emissionsG'] as const)
      expect(month?.totals[field], field).toBe(exactSum(field));
    if (month === undefined) throw new Error('no October figures');
    const shown = presentSpan(month, BERLIN);
    expect(shown).toMatchObject({
      start: '2026-09-30T22:00:00.000Z',
      end: '2026-10-31T23:00:00.000Z',
      localStart: '2026-10-01T00:00:00+02:00',
      localEnd: '2026-11-01T00:00:00+01:00',
      currency: 'EUR',
      days: 3,
      quarterHours: 292,
      costComplete: true,
      emissionsComplete: true,
      missing: [],
    });
    expect(shown.grossCost.display).toBe(decimal(shown.grossCost.exact).round(2).toFixed(2));
  });
});

describe('a monthly statement', () => {
  const statement = statementOf(site, '2026-10', days, '2026-12-01');

  it('has import by tariff period adding up to the import cost, VAT per rate adding up to the VAT, and names the days without data', () => {
    expect(statement.periods.map((p) => p.period)).toEqual(['off_peak', 'peak']);
    expect(sum(statement.periods.map((p) => decimal(p.importCost.exact))).toString()).toBe(
      statement.importCost.exact,
    );
    expect(sum(statement.vatLines.map((l) => decimal(l.vat.exact))).toString()).toBe(
      statement.vat.exact,
    );
    expect(statement.vatLines.map((l) => l.rate)).toEqual(['0', '0.19']);
    expect(statement.fees).toEqual({ daysCharged: 3, amount: { exact: '1.35', display: '1.35' } });
    expect(statement.daysWithData).toBe(3);
    expect(statement.daysWithoutData).toHaveLength(28);
    expect(statement.daysWithoutData).not.toContain('2026-10-25');
    expect(statement.complete).toBe(false);
    const exact = totalsOfDays(days);
    expect(statement.grossCost.exact).toBe(exact.grossCost.toString());
  });

  it('lists in CSV what the JSON says, one header row and a row per figure', () => {
    const rows = parseCsv(statementCsv(statement));
    expect(rows[0]).toEqual([...STATEMENT_CSV_COLUMNS]);
    const records = rows
      .slice(1)
      .map((r) => Object.fromEntries(STATEMENT_CSV_COLUMNS.map((c, i) => [c, r[i] ?? ''])));
    expect(records.every((r) => Object.keys(r).length === STATEMENT_CSV_COLUMNS.length)).toBe(true);
    const row = (section: string, item: string) =>
      records.find((r) => r.section === section && r.item === item);
    expect(row('period', 'peak')?.amount_exact).toBe(
      statement.periods.find((p) => p.period === 'peak')?.importCost.exact,
    );
    expect(row('import_cost', 'total')).toMatchObject({
      amount: statement.importCost.display,
      amount_exact: statement.importCost.exact,
      currency: 'EUR',
    });
    expect(row('gross_cost', 'total')?.amount_exact).toBe(statement.grossCost.exact);
    expect(row('vat', 'total')?.vat_exact).toBe(statement.vat.exact);
    expect(row('fees', '3 days')?.amount_exact).toBe('1.35');
    expect(row('emissions', 'grid_import')?.emissions_g_exact).toBe(statement.emissionsG.exact);
    expect(row('status', 'incomplete')).toBeDefined();
    expect(records.filter((r) => r.section === 'day_without_data')).toHaveLength(28);
  });

  it('keeps a period name a cell of text: quoted with its comma, never a formula', () => {
    const csv = statementCsv({
      ...statement,
      periods: statement.periods.map((p) => ({ ...p, period: '=HYPERLINK("x"),peak' })),
    });
    const periodRow = parseCsv(csv).find((r) => r[0] === 'period');
    expect(periodRow?.[1]).toBe(`'=HYPERLINK("x"),peak`);
    expect(periodRow).toHaveLength(STATEMENT_CSV_COLUMNS.length);
  });
});

describe('JSON or CSV', () => {
  it('follows ?format first, then the Accept header by quality, JSON by default', () => {
    expect(wantsCsv('csv', 'application/json')).toBe(true);
    expect(wantsCsv('json', 'text/csv')).toBe(false);
    expect(wantsCsv(undefined, undefined)).toBe(false);
    expect(wantsCsv(undefined, 'text/csv')).toBe(true);
    expect(wantsCsv(undefined, '*/*')).toBe(false);
    expect(wantsCsv(undefined, 'application/json, text/csv')).toBe(false);
    expect(wantsCsv(undefined, 'application/json;q=0.5, text/csv')).toBe(true);
    expect(wantsCsv(undefined, 'text/*, application/json;q=0.9')).toBe(true);
    expect(wantsCsv(undefined, 'text/csv;q=0, */*')).toBe(false);
    expect(wantsCsv(undefined, 'text/html')).toBe(false);
  });
});
