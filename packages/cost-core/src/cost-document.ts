import { costTotals } from './cost-totals.ts';
import type { CostTotals, PeriodFigures, VatRateFigures } from './cost-totals.ts';
import type { DayFee } from './daily-fee.ts';
import { decimal, kWhFromWh } from './decimal.ts';
import type { Decimal } from './decimal.ts';
import type { MissingInput, QuarterHourCost } from './quarter-hour-cost.ts';

/**
 * The figures as stored (MongoDB) and served (API): JSON with every amount as decimal text, so
 * what is read back is exactly what was computed. A stored day holds its quarter hours and its
 * fee, so any range (a month, a year, a statement) is totalled again exactly from days with
 * `costTotals`, never from rounded day totals.
 */

type Text<T> = T extends Decimal ? string : T extends Decimal | null ? string | null : T;
type Stored<T> = { readonly [K in keyof T]: Text<T[K]> };

/** A quarter hour's figures with decimals as text. */
export type StoredQuarterHourCost = Stored<QuarterHourCost>;
/** A day's fee with decimals as text. */
export type StoredDayFee = Stored<DayFee>;

export interface StoredCostTotals extends Omit<
  Stored<CostTotals>,
  'byVatRate' | 'byPeriod' | 'incomplete'
> {
  /**
   * Lists, not objects keyed by rate or period: a key holding '.' ("0.19") or a name a tariff
   * chose is refused by MongoDB-compatible servers (FerretDB: "key must not contain '.'").
   */
  readonly byVatRate: readonly ({ readonly rate: string } & Stored<VatRateFigures>)[];
  readonly byPeriod: readonly ({ readonly period: string } & Stored<PeriodFigures>)[];
  /** Quarter hours left out of a figure, as UTC instants, and what each lacks. */
  readonly incomplete: readonly {
    readonly start: string;
    readonly missing: readonly MissingInput[];
  }[];
}

/** One device's energy in a quarter hour of its site (its latest figure). */
export interface DeviceShare {
  readonly deviceId: string;
  readonly role: string;
  readonly importWh: number;
  readonly exportWh: number;
}

/**
 * A device's day: its energy, and what its import cost and emitted at the site's import price
 * and the grid's intensity in force each quarter hour (docs/cost.md, "Per device"). Null where
 * a quarter hour with import had no price (or no intensity); `unpricedQuarterHours` counts them.
 */
export interface StoredDeviceCost {
  readonly deviceId: string;
  readonly role: string;
  readonly quarterHours: number;
  readonly importWh: string;
  readonly exportWh: string;
  readonly importCost: string | null;
  readonly emissionsG: string | null;
  readonly unpricedQuarterHours: number;
}

/** One local day of a site: the document the cost processor writes and the API reads. */
export interface SiteCostDay {
  readonly tenant: string;
  readonly siteId: string;
  /** The local calendar day in the site's time zone, YYYY-MM-DD. */
  readonly date: string;
  readonly timeZone: string;
  /** UTC instants of the day's bounds (23, 24 or 25 hours apart). */
  readonly start: string;
  readonly end: string;
  readonly quarters: readonly StoredQuarterHourCost[];
  /** The site's devices with energy in the day's priced quarter hours, by id. */
  readonly devices: readonly StoredDeviceCost[];
  /** Each device's share of each of those quarter hours, by device, then time. */
  readonly deviceQuarters: readonly StoredDeviceQuarter[];
  readonly fee: StoredDayFee;
  /** The day's totals: its quarter hours and its fee. */
  readonly totals: StoredCostTotals;
}

const text = (value: Decimal | null): string | null => (value === null ? null : value.toString());
const fromText = (value: string | null): Decimal | null => (value === null ? null : decimal(value));

export function storeQuarterHour(q: QuarterHourCost): StoredQuarterHourCost {
  return {
    ...q,
    importWh: q.importWh.toString(),
    exportWh: q.exportWh.toString(),
    selfConsumedWh: text(q.selfConsumedWh),
    importPricePerKWh: text(q.importPricePerKWh),
    exportPricePerKWh: text(q.exportPricePerKWh),
    importCost: text(q.importCost),
    importVat: text(q.importVat),
    exportEarnings: text(q.exportEarnings),
    exportVat: text(q.exportVat),
    carbonGramsPerKWh: text(q.carbonGramsPerKWh),
    emissionsG: text(q.emissionsG),
    avoidedEmissionsG: text(q.avoidedEmissionsG),
    missing: [...q.missing],
  };
}

export function loadQuarterHour(q: StoredQuarterHourCost): QuarterHourCost {
  return {
    ...q,
    importWh: decimal(q.importWh),
    exportWh: decimal(q.exportWh),
    selfConsumedWh: fromText(q.selfConsumedWh),
    importPricePerKWh: fromText(q.importPricePerKWh),
    exportPricePerKWh: fromText(q.exportPricePerKWh),
    importCost: fromText(q.importCost),
    importVat: fromText(q.importVat),
    exportEarnings: fromText(q.exportEarnings),
    exportVat: fromText(q.exportVat),
    carbonGramsPerKWh: fromText(q.carbonGramsPerKWh),
    emissionsG: fromText(q.emissionsG),
    avoidedEmissionsG: fromText(q.avoidedEmissionsG),
  };
}

export function storeDayFee(fee: DayFee): StoredDayFee {
  return { ...fee, fee: text(fee.fee), feeVat: text(fee.feeVat) };
}

export function loadDayFee(fee: StoredDayFee): DayFee {
  return { ...fee, fee: fromText(fee.fee), feeVat: fromText(fee.feeVat) };
}

export function storeTotals(t: CostTotals): StoredCostTotals {
  return {
    ...t,
    importWh: t.importWh.toString(),
    exportWh: t.exportWh.toString(),
    selfConsumedWh: t.selfConsumedWh.toString(),
    importCost: t.importCost.toString(),
    exportEarnings: t.exportEarnings.toString(),
    fees: t.fees.toString(),
    netCost: t.netCost.toString(),
    vat: t.vat.toString(),
    grossCost: t.grossCost.toString(),
    emissionsG: t.emissionsG.toString(),
    avoidedEmissionsG: t.avoidedEmissionsG.toString(),
    byVatRate: Object.entries(t.byVatRate).map(([rate, f]) => ({
      rate,
      net: f.net.toString(),
      vat: f.vat.toString(),
    })),
    byPeriod: Object.entries(t.byPeriod).map(([period, f]) => ({
      period,
      importWh: f.importWh.toString(),
      importCost: f.importCost.toString(),
      emissionsG: f.emissionsG.toString(),
    })),
    incomplete: t.incomplete.map((q) => ({
      start: new Date(q.startMs).toISOString(),
      missing: [...q.missing],
    })),
    daysWithoutFee: [...t.daysWithoutFee],
  };
}

/** A device's share of one quarter hour, priced: what `StoredDeviceCost` sums. */
export interface StoredDeviceQuarter {
  readonly deviceId: string;
  readonly role: string;
  readonly startMs: number;
  readonly importWh: string;
  readonly exportWh: string;
  /** Null where it imported and the quarter hour had no import price. */
  readonly importCost: string | null;
  /** Null where it imported and the quarter hour had no carbon intensity. */
  readonly emissionsG: string | null;
}

/**
 * Each device's share of each quarter hour, its import priced at the site's import price in
 * force and the grid intensity of that quarter hour. Exact, as the site's figures are.
 */
function deviceQuarters(
  quarterHours: readonly QuarterHourCost[],
  sharesOf: (startMs: number) => readonly DeviceShare[],
): StoredDeviceQuarter[] {
  const lines: StoredDeviceQuarter[] = [];
  for (const q of quarterHours)
    for (const share of sharesOf(q.startMs)) {
      const importKWh = kWhFromWh(share.importWh);
      const none = share.importWh === 0;
      lines.push({
        deviceId: share.deviceId,
        role: share.role,
        startMs: q.startMs,
        importWh: decimal(String(share.importWh)).toString(),
        exportWh: decimal(String(share.exportWh)).toString(),
        importCost: none
          ? '0'
          : q.importPricePerKWh === null
            ? null
            : importKWh.times(q.importPricePerKWh).toString(),
        emissionsG: none
          ? '0'
          : q.carbonGramsPerKWh === null
            ? null
            : importKWh.times(q.carbonGramsPerKWh).toString(),
      });
    }
  return lines.sort(
    (a, b) =>
      (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0) || a.startMs - b.startMs,
  );
}

/** Each device's day: its quarter hours summed exactly, a null (unpriced) part making null. */
export function deviceCostsOf(lines: readonly StoredDeviceQuarter[]): StoredDeviceCost[] {
  interface Sum {
    role: string;
    quarterHours: number;
    importWh: Decimal;
    exportWh: Decimal;
    importCost: Decimal | null;
    emissionsG: Decimal | null;
    unpriced: number;
  }
  const sums = new Map<string, Sum>();
  for (const line of lines) {
    const sum = sums.get(line.deviceId) ?? {
      role: line.role,
      quarterHours: 0,
      importWh: decimal('0'),
      exportWh: decimal('0'),
      importCost: decimal('0'),
      emissionsG: decimal('0'),
      unpriced: 0,
    };
    sum.quarterHours += 1;
    sum.importWh = sum.importWh.plus(line.importWh);
    sum.exportWh = sum.exportWh.plus(line.exportWh);
    if (line.importCost === null) sum.unpriced += 1;
    sum.importCost =
      sum.importCost === null || line.importCost === null
        ? null
        : sum.importCost.plus(line.importCost);
    sum.emissionsG =
      sum.emissionsG === null || line.emissionsG === null
        ? null
        : sum.emissionsG.plus(line.emissionsG);
    sums.set(line.deviceId, sum);
  }
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([deviceId, s]) => ({
      deviceId,
      role: s.role,
      quarterHours: s.quarterHours,
      importWh: s.importWh.toString(),
      exportWh: s.exportWh.toString(),
      importCost: text(s.importCost),
      emissionsG: text(s.emissionsG),
      unpricedQuarterHours: s.unpriced,
    }));
}

/** A site's local day as stored: its quarter hours (any order), its devices' shares and its fee. */
export function siteCostDay(
  site: { readonly tenant: string; readonly siteId: string; readonly timeZone: string },
  fee: DayFee,
  quarterHours: readonly QuarterHourCost[],
  sharesOf: (startMs: number) => readonly DeviceShare[] = () => [],
): SiteCostDay {
  const sorted = [...quarterHours].sort((a, b) => a.startMs - b.startMs);
  const shares = deviceQuarters(sorted, sharesOf);
  return {
    tenant: site.tenant,
    siteId: site.siteId,
    date: fee.localDate,
    timeZone: site.timeZone,
    start: new Date(fee.startMs).toISOString(),
    end: new Date(fee.endMs).toISOString(),
    quarters: sorted.map(storeQuarterHour),
    devices: deviceCostsOf(shares),
    deviceQuarters: shares,
    fee: storeDayFee(fee),
    totals: storeTotals(costTotals(sorted, [fee])),
  };
}

/**
 * Totals of stored days over [fromMs, toMs): the quarter hours in the range, and the fees of
 * the days that start in it. A month or a year is its days' range; exact, as costTotals is.
 */
export function totalsOfDays(
  days: readonly SiteCostDay[],
  fromMs = Number.NEGATIVE_INFINITY,
  toMs = Number.POSITIVE_INFINITY,
): CostTotals {
  const quarters: QuarterHourCost[] = [];
  const fees: DayFee[] = [];
  for (const day of days) {
    for (const q of day.quarters)
      if (q.startMs >= fromMs && q.startMs < toMs) quarters.push(loadQuarterHour(q));
    if (day.fee.startMs >= fromMs && day.fee.startMs < toMs) fees.push(loadDayFee(day.fee));
  }
  return costTotals(quarters, fees);
}
