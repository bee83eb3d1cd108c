import { assertQuarterHourOffset, localIsoTime, localTime } from '@gridstream/energy-core';
import type { LocalTime } from '@gridstream/energy-core';
import { ZERO, decimal, kWhFromWh, maxDecimal, minDecimal } from './decimal.ts';
import type { Decimal } from './decimal.ts';
import type { QuarterHourEnergy } from './energy-book.ts';
import type { QuarterHourSeries } from './quarter-hour-series.ts';
import type { DynamicPrice, TariffVersion } from '@gridstream/events';
import { timeOfUsePeriodAt } from './time-of-use.ts';

/** What a quarter hour's figures could not be made without. */
export type MissingInput = 'tariff' | 'import_price' | 'export_price' | 'carbon_intensity';

/** A site as the cost rules need it. */
export interface SiteCostProfile {
  /** IANA zone: local days, months, years and time-of-use hours are this zone's. */
  readonly timeZone: string;
  /** Zone of the grid carbon-intensity series, null if the site has none. */
  readonly carbonZone: string | null;
}

/** A day-ahead price point as held in the series: per MWh, as exchanges publish it. */
export interface DayAheadPrice {
  readonly pricePerMWh: Decimal;
  readonly currency: string;
}

/** The series a site's figures are made from. */
export interface CostSeries {
  readonly dayAheadPrices: QuarterHourSeries<DayAheadPrice>;
  /** gCO2e per kWh. */
  readonly carbonIntensity: QuarterHourSeries<Decimal>;
}

/** Period name of a fixed or dynamic price: a time-of-use price names its own periods. */
export const FIXED_PERIOD = 'fixed';
export const DYNAMIC_PERIOD = 'dynamic';

/**
 * One quarter hour's cost and emissions. Money is net of VAT, in the tariff's currency, exact
 * (never rounded here). A figure that lacks an input is null and the input is named in
 * `missing`: a missing price is never taken as zero.
 */
export interface QuarterHourCost {
  readonly startMs: number;
  /** Local wall time with its offset, e.g. 2026-10-25T02:15:00+01:00. */
  readonly localStart: string;
  readonly localDate: string;
  readonly revision: number;
  readonly tariffVersionId: string | null;
  readonly currency: string | null;
  /** Time-of-use period name, or 'fixed' / 'dynamic'; null without a tariff. */
  readonly period: string | null;
  readonly importWh: Decimal;
  readonly exportWh: Decimal;
  readonly selfConsumedWh: Decimal | null;
  readonly importPricePerKWh: Decimal | null;
  readonly exportPricePerKWh: Decimal | null;
  readonly importCost: Decimal | null;
  /** The VAT rate of import (and of the day's fee) in the version that priced it. */
  readonly vatRate: string | null;
  readonly importVat: Decimal | null;
  readonly exportVatRate: string | null;
  readonly exportEarnings: Decimal | null;
  readonly exportVat: Decimal | null;
  readonly carbonGramsPerKWh: Decimal | null;
  readonly emissionsG: Decimal | null;
  readonly avoidedEmissionsG: Decimal | null;
  readonly missing: readonly MissingInput[];
}

interface ResolvedPrice {
  readonly period: string;
  readonly pricePerKWh: Decimal | null;
}

function dynamicPriceAt(
  price: DynamicPrice,
  currency: string,
  series: CostSeries,
  quarterStartMs: number,
): Decimal | null {
  const spot = series.dayAheadPrices.at(price.biddingZone, quarterStartMs);
  // A price in another currency is not this tariff's price: missing, not converted.
  if (spot === undefined || spot.value.currency !== currency) return null;
  let perKWh = spot.value.pricePerMWh.times('0.001').plus(decimal(price.markupPerKWh));
  if (price.floorPerKWh !== undefined) perKWh = maxDecimal(perKWh, decimal(price.floorPerKWh));
  if (price.capPerKWh !== undefined) perKWh = minDecimal(perKWh, decimal(price.capPerKWh));
  return perKWh;
}

function importPriceAt(
  version: TariffVersion,
  local: LocalTime,
  series: CostSeries,
  quarterStartMs: number,
): ResolvedPrice {
  const price = version.importPrice;
  switch (price.kind) {
    case 'fixed':
      return { period: FIXED_PERIOD, pricePerKWh: decimal(price.pricePerKWh) };
    case 'time_of_use': {
      const period = timeOfUsePeriodAt(price, local);
      return { period: period.name, pricePerKWh: decimal(period.pricePerKWh) };
    }
    case 'dynamic':
      return {
        period: DYNAMIC_PERIOD,
        pricePerKWh: dynamicPriceAt(price, version.currency, series, quarterStartMs),
      };
  }
}

function exportPriceAt(
  version: TariffVersion,
  series: CostSeries,
  quarterStartMs: number,
): Decimal | null {
  const price = version.exportPrice;
  return price.kind === 'fixed'
    ? decimal(price.pricePerKWh)
    : dynamicPriceAt(price, version.currency, series, quarterStartMs);
}

/**
 * Energy × a per-kWh figure (a price, an intensity), where no energy needs none: 0 Wh costs 0 at any price, published or not.
 * Null (and the input named missing) when there is energy and no price.
 */
function timesKWh(kWh: Decimal, perKWh: Decimal | null): Decimal | null {
  if (kWh.eq(ZERO)) return ZERO;
  return perKWh === null ? null : kWh.times(perKWh);
}

/** The cost and emissions of one quarter hour of a site's energy (docs/cost.md). */
export function quarterHourCost(
  site: SiteCostProfile,
  version: TariffVersion | undefined,
  energy: QuarterHourEnergy,
  series: CostSeries,
): QuarterHourCost {
  const local = localTime(energy.startMs, site.timeZone);
  assertQuarterHourOffset(local, site.timeZone);
  const localStart = localIsoTime(energy.startMs, site.timeZone);
  const importKWh = kWhFromWh(energy.importWh);
  const exportKWh = kWhFromWh(energy.exportWh);
  const selfConsumedKWh = energy.selfConsumedWh === null ? null : kWhFromWh(energy.selfConsumedWh);

  const intensity =
    site.carbonZone === null
      ? undefined
      : series.carbonIntensity.at(site.carbonZone, energy.startMs)?.value;
  const carbonGramsPerKWh = intensity ?? null;
  const emissionsG = timesKWh(importKWh, carbonGramsPerKWh);
  const avoidedEmissionsG =
    selfConsumedKWh === null ? null : timesKWh(selfConsumedKWh, carbonGramsPerKWh);
  const carbonMissing: MissingInput[] =
    emissionsG === null || (selfConsumedKWh !== null && avoidedEmissionsG === null)
      ? ['carbon_intensity']
      : [];

  const base = {
    startMs: energy.startMs,
    localStart,
    localDate: localStart.slice(0, 10),
    revision: energy.revision,
    importWh: importKWh.times('1000'),
    exportWh: exportKWh.times('1000'),
    selfConsumedWh: selfConsumedKWh === null ? null : selfConsumedKWh.times('1000'),
    carbonGramsPerKWh,
    emissionsG,
    avoidedEmissionsG,
  };

  if (version === undefined) {
    return {
      ...base,
      tariffVersionId: null,
      currency: null,
      period: null,
      importPricePerKWh: null,
      exportPricePerKWh: null,
      importCost: null,
      vatRate: null,
      importVat: null,
      exportVatRate: null,
      exportEarnings: null,
      exportVat: null,
      missing: ['tariff', ...carbonMissing],
    };
  }

  const importPrice = importPriceAt(version, local, series, energy.startMs);
  const exportPricePerKWh = exportPriceAt(version, series, energy.startMs);
  const importCost = timesKWh(importKWh, importPrice.pricePerKWh);
  const exportEarnings = timesKWh(exportKWh, exportPricePerKWh);
  const missing: MissingInput[] = [
    ...(importCost === null ? (['import_price'] as const) : []),
    ...(exportEarnings === null ? (['export_price'] as const) : []),
    ...carbonMissing,
  ];
  return {
    ...base,
    tariffVersionId: version.id,
    currency: version.currency,
    period: importPrice.period,
    importPricePerKWh: importPrice.pricePerKWh,
    exportPricePerKWh,
    importCost,
    vatRate: version.vatRate,
    importVat: importCost === null ? null : importCost.times(version.vatRate),
    exportVatRate: version.exportVatRate,
    exportEarnings,
    exportVat: exportEarnings === null ? null : exportEarnings.times(version.exportVatRate),
    missing,
  };
}
