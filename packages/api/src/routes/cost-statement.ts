import { z } from 'zod';
import { storeTotals, totalsOfDays } from '@gridstream/cost-core';
import type { SiteCostDay } from '@gridstream/cost-core';
import { localIsoTime } from '@gridstream/energy-core';
import { localDateStartMs, nextMonthStart } from './cost-calendar.ts';
import { datesWithoutData } from './cost-buckets.ts';
import {
  CostFigures,
  EnergyFigures,
  Grams,
  Money,
  costFigures,
  grams,
  kWh,
  money,
} from './cost-figures.ts';

/** A local month of a site, YYYY-MM. */
export const StatementMonth = z
  .string()
  .regex(/^20\d\d-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM, 2000 to 2099')
  .describe("a calendar month in the site's time zone, YYYY-MM");

export const StatementResponse = z.object({
  siteId: z.string(),
  month: z.string().describe('YYYY-MM'),
  timeZone: z.string(),
  start: z.string().describe('local midnight of the 1st, UTC'),
  end: z.string().describe('local midnight of the 1st of the next month, UTC (exclusive)'),
  localStart: z.string(),
  localEnd: z.string(),
  currency: CostFigures.shape.currency,
  complete: z
    .boolean()
    .describe(
      'the month is over, every day of it has data, and every figure had its inputs (costComplete and emissionsComplete)',
    ),
  costComplete: CostFigures.shape.costComplete,
  emissionsComplete: CostFigures.shape.emissionsComplete,
  missing: CostFigures.shape.missing,
  incompleteQuarterHours: CostFigures.shape.incompleteQuarterHours,
  daysWithData: z.number().int().describe('local days of the month with energy'),
  daysWithoutData: z
    .array(z.string())
    .describe('local days of the month up to today without energy data'),
  energy: EnergyFigures,
  periods: z
    .array(
      z.object({
        period: z.string().describe("a time-of-use period's name, or fixed / dynamic"),
        importKWh: z.string(),
        importCost: Money,
        emissionsG: Grams,
      }),
    )
    .describe('grid import by tariff period: these import costs add up to importCost'),
  importCost: Money,
  exportEarnings: Money,
  fees: z.object({
    daysCharged: z.number().int().describe('days with a fee line'),
    amount: Money,
  }),
  daysWithoutFee: CostFigures.shape.daysWithoutFee,
  netCost: Money,
  vatLines: z
    .array(
      z.object({
        rate: z.string().describe('the VAT rate, e.g. "0.19" for 19 %'),
        net: Money.describe('the net amount taxed at this rate (export earnings count negative)'),
        vat: Money,
      }),
    )
    .describe('net amount and VAT per rate, each rounded once'),
  vat: Money,
  grossCost: Money,
  emissionsG: Grams,
  avoidedEmissionsG: Grams,
});
export type Statement = z.infer<typeof StatementResponse>;

/**
 * A site's statement of one local month, from the month's stored days (their quarter hours and
 * fees, totalled exactly by cost-core; rounding only in `display`).
 */
export function statementOf(
  site: { readonly siteId: string; readonly timeZone: string },
  month: string,
  days: readonly SiteCostDay[],
  today: string,
): Statement {
  const range = { fromDate: `${month}-01`, toDate: nextMonthStart(`${month}-01`) };
  const startMs = localDateStartMs(range.fromDate, site.timeZone);
  const endMs = localDateStartMs(range.toDate, site.timeZone);
  const totals = storeTotals(totalsOfDays(days, startMs, endMs));
  const figures = costFigures(totals);
  const { currency } = totals;
  // A stored day without quarter hours is a day without energy that still pays its fee.
  const withData = days.filter((day) => day.totals.quarterHours > 0);
  const daysWithoutData = datesWithoutData(range, today, new Set(withData.map((day) => day.date)));
  return {
    siteId: site.siteId,
    month,
    timeZone: site.timeZone,
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    localStart: localIsoTime(startMs, site.timeZone),
    localEnd: localIsoTime(endMs, site.timeZone),
    currency,
    complete:
      range.toDate <= today &&
      daysWithoutData.length === 0 &&
      figures.costComplete &&
      figures.emissionsComplete,
    costComplete: figures.costComplete,
    emissionsComplete: figures.emissionsComplete,
    missing: figures.missing,
    incompleteQuarterHours: figures.incompleteQuarterHours,
    daysWithData: withData.length,
    daysWithoutData,
    energy: figures.energy,
    periods: totals.byPeriod.map((f) => ({
      period: f.period,
      importKWh: kWh(f.importWh),
      importCost: money(f.importCost, currency),
      emissionsG: grams(f.emissionsG),
    })),
    importCost: figures.importCost,
    exportEarnings: figures.exportEarnings,
    fees: { daysCharged: totals.days - totals.daysWithoutFee.length, amount: figures.fees },
    daysWithoutFee: figures.daysWithoutFee,
    netCost: figures.netCost,
    vatLines: totals.byVatRate.map((f) => ({
      rate: f.rate,
      net: money(f.net, currency),
      vat: money(f.vat, currency),
    })),
    vat: figures.vat,
    grossCost: figures.grossCost,
    emissionsG: figures.emissionsG,
    avoidedEmissionsG: figures.avoidedEmissionsG,
  };
}

/** The CSV columns, in order (docs/cost.md, "Reading cost and emissions"). */
export const STATEMENT_CSV_COLUMNS = [
  'section',
  'item',
  'kwh',
  'amount',
  'amount_exact',
  'vat_rate',
  'vat',
  'vat_exact',
  'emissions_g',
  'emissions_g_exact',
  'currency',
] as const;
type CsvRow = Partial<Record<(typeof STATEMENT_CSV_COLUMNS)[number], string>>;

/**
 * A text cell as a spreadsheet reads it: quoted when it holds a comma, quote or line break
 * (RFC 4180), and a leading = + - @ made text with an apostrophe, so a period's name cannot be
 * a formula (OWASP, "CSV injection"). Numbers are written as they are.
 */
function textCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * The statement as CSV: a header row, then one row per figure, `section` saying what the row
 * is. Amounts are shown rounded (`amount`, `vat`, `emissions_g`) and exact (`…_exact`).
 */
export function statementCsv(statement: Statement): string {
  const { currency } = statement;
  const cur = currency ?? '';
  const rows: CsvRow[] = [
    { section: 'energy', item: 'import', kwh: statement.energy.importKWh },
    { section: 'energy', item: 'export', kwh: statement.energy.exportKWh },
    { section: 'energy', item: 'self_consumed', kwh: statement.energy.selfConsumedKWh },
    ...statement.periods.map((p) => ({
      section: 'period',
      item: textCell(p.period),
      kwh: p.importKWh,
      amount: p.importCost.display,
      amount_exact: p.importCost.exact,
      emissions_g: p.emissionsG.display,
      emissions_g_exact: p.emissionsG.exact,
      currency: cur,
    })),
    moneyRow('import_cost', statement.energy.importKWh, statement.importCost),
    moneyRow('export_earnings', statement.energy.exportKWh, statement.exportEarnings),
    {
      ...moneyRow('fees', undefined, statement.fees.amount),
      item: `${statement.fees.daysCharged} days`,
    },
    moneyRow('net_cost', undefined, statement.netCost),
    ...statement.vatLines.map((line) => ({
      section: 'vat',
      item: 'rate',
      amount: line.net.display,
      amount_exact: line.net.exact,
      vat_rate: line.rate,
      vat: line.vat.display,
      vat_exact: line.vat.exact,
      currency: cur,
    })),
    {
      section: 'vat',
      item: 'total',
      vat: statement.vat.display,
      vat_exact: statement.vat.exact,
      currency: cur,
    },
    moneyRow('gross_cost', undefined, statement.grossCost),
    {
      section: 'emissions',
      item: 'grid_import',
      kwh: statement.energy.importKWh,
      emissions_g: statement.emissionsG.display,
      emissions_g_exact: statement.emissionsG.exact,
    },
    {
      section: 'emissions',
      item: 'avoided',
      kwh: statement.energy.selfConsumedKWh,
      emissions_g: statement.avoidedEmissionsG.display,
      emissions_g_exact: statement.avoidedEmissionsG.exact,
    },
    { section: 'status', item: statement.complete ? 'complete' : 'incomplete' },
    ...statement.missing.map((input) => ({ section: 'missing_input', item: input })),
    ...statement.daysWithoutData.map((date) => ({ section: 'day_without_data', item: date })),
    ...statement.daysWithoutFee.map((date) => ({ section: 'day_without_fee', item: date })),
  ];
  const lines = [
    STATEMENT_CSV_COLUMNS.join(','),
    ...rows.map((row) => STATEMENT_CSV_COLUMNS.map((column) => row[column] ?? '').join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;

  function moneyRow(
    section: string,
    kwh: string | undefined,
    amount: { exact: string; display: string },
  ): CsvRow {
    return {
      section,
      item: 'total',
      ...(kwh === undefined ? {} : { kwh }),
      amount: amount.display,
      amount_exact: amount.exact,
      currency: cur,
    };
  }
}
