import {
  localDate,
  localDayStartMs,
  localMonthEndMs,
  localMonthStartMs,
  localYearEndMs,
  localYearStartMs,
} from '@gridstream/energy-core';
import { costTotals } from './cost-totals.ts';
import type { CostTotals } from './cost-totals.ts';
import { dayFeesBetween } from './daily-fee.ts';
import type { Decimal } from './decimal.ts';
import { EnergyBook } from './energy-book.ts';
import type { QuarterHourEnergy } from './energy-book.ts';
import { quarterHourCost } from './quarter-hour-cost.ts';
import { applyCarbonPublication, applyPricePublication } from './series-publications.ts';
import type {
  CostSeries,
  DayAheadPrice,
  QuarterHourCost,
  SiteCostProfile,
} from './quarter-hour-cost.ts';
import { QuarterHourSeries } from './quarter-hour-series.ts';
import type { CarbonPublication, PricePublication } from '@gridstream/events';
import { TariffBook } from './tariff-book.ts';
import type { InstantRange } from './tariff-book.ts';
import type { TariffVersion } from '@gridstream/events';

const HOUR_MS = 3_600_000;

/** What a site's cost is folded from; next session these are events on their topics. */
export type CostInput =
  | { readonly kind: 'tariff_version'; readonly version: TariffVersion }
  | { readonly kind: 'price_publication'; readonly publication: PricePublication }
  | { readonly kind: 'carbon_publication'; readonly publication: CarbonPublication }
  | { readonly kind: 'energy'; readonly energy: QuarterHourEnergy };

/** The quarter hours an input may have changed the figures of: instants [fromMs, toMs). */
export type AffectedRanges = readonly InstantRange[];

export type RollupSize = 'day' | 'month' | 'year';

/** Totals of one local day, month or year of the site. */
export interface PeriodCost extends CostTotals {
  readonly size: RollupSize;
  /** '2026-10-25', '2026-10' or '2026': in the site's time zone. */
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
}

const QUARTER_HOUR_MS = 15 * 60_000;

function quarterRanges(quarterStarts: readonly number[]): InstantRange[] {
  return [...new Set(quarterStarts)]
    .sort((a, b) => a - b)
    .map((startMs) => ({ fromMs: startMs, toMs: startMs + QUARTER_HOUR_MS }));
}

/**
 * One site's cost and emissions, folded from its tariff versions, the zones' price and carbon
 * publications and its quarter-hour energy. Every part keeps a rule that does not depend on
 * arrival (the latest version per effective instant, the latest publication per quarter hour,
 * the highest revision per energy figure), and figures are computed from what is held, so the
 * same inputs in any order give the same figures: replay = live.
 */
export class SiteCostLedger {
  readonly #tariffs = new TariffBook();
  readonly #energy = new EnergyBook();
  readonly #series: CostSeries = {
    dayAheadPrices: new QuarterHourSeries<DayAheadPrice>(),
    carbonIntensity: new QuarterHourSeries<Decimal>(),
  };

  readonly site: SiteCostProfile;

  constructor(site: SiteCostProfile) {
    this.site = site;
  }

  /** Fold in an input; returns the instants whose quarter-hour figures may have changed. */
  apply(input: CostInput): AffectedRanges {
    switch (input.kind) {
      case 'tariff_version': {
        const range = this.#tariffs.apply(input.version);
        return range === null ? [] : [range];
      }
      case 'price_publication':
        return quarterRanges(applyPricePublication(this.#series, input.publication));
      case 'carbon_publication':
        return quarterRanges(applyCarbonPublication(this.#series, input.publication));
      case 'energy':
        return this.#energy.apply(input.energy) ? quarterRanges([input.energy.startMs]) : [];
    }
  }

  /** Figures of every quarter hour with energy in [fromMs, toMs), in time order. */
  quarterHours(fromMs: number, toMs: number): QuarterHourCost[] {
    return this.#energy
      .between(fromMs, toMs)
      .map((energy) =>
        quarterHourCost(this.site, this.#tariffs.at(energy.startMs)?.version, energy, this.#series),
      );
  }

  /**
   * Totals of the quarter hours in [fromMs, toMs) and the fees of the local days that start
   * in it. Day, month and year roll-ups are this on their local bounds; a month to date is
   * this up to the end of today (a fee is charged for each day of the range).
   */
  totals(fromMs: number, toMs: number): CostTotals {
    return costTotals(
      this.quarterHours(fromMs, toMs),
      dayFeesBetween(this.#tariffs, this.site.timeZone, fromMs, toMs),
    );
  }

  /** The local day, month or year holding `instantMs`, in the site's time zone. */
  rollup(size: RollupSize, instantMs: number): PeriodCost {
    const zone = this.site.timeZone;
    let startMs: number;
    let endMs: number;
    if (size === 'day') {
      startMs = localDayStartMs(instantMs, zone);
      endMs = localDayStartMs(startMs + 26 * HOUR_MS, zone);
    } else if (size === 'month') {
      startMs = localMonthStartMs(instantMs, zone);
      endMs = localMonthEndMs(instantMs, zone);
    } else {
      startMs = localYearStartMs(instantMs, zone);
      endMs = localYearEndMs(instantMs, zone);
    }
    const date = localDate(startMs, zone);
    const label = size === 'day' ? date : size === 'month' ? date.slice(0, 7) : date.slice(0, 4);
    return { size, label, startMs, endMs, ...this.totals(startMs, endMs) };
  }

  /** The local days that start in [fromMs, toMs), each rolled up. */
  days(fromMs: number, toMs: number): PeriodCost[] {
    return dayFeesBetween(this.#tariffs, this.site.timeZone, fromMs, toMs).map((day) =>
      this.rollup('day', day.startMs),
    );
  }

  tariffVersions(): TariffVersion[] {
    return this.#tariffs.versions().map((entry) => entry.version);
  }
}
