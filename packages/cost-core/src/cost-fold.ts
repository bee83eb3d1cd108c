import { localDate, localDayStartMs } from '@gridstream/energy-core';
import type { CarbonPublication, PricePublication, TariffVersion } from '@gridstream/events';
import { siteCostDay } from './cost-document.ts';
import type { DeviceShare, SiteCostDay } from './cost-document.ts';
import { dayFeesBetween } from './daily-fee.ts';
import type { Decimal } from './decimal.ts';
import { EnergyBook } from './energy-book.ts';
import type { QuarterHourEnergy } from './energy-book.ts';
import { quarterHourCost } from './quarter-hour-cost.ts';
import { applyCarbonPublication, applyPricePublication } from './series-publications.ts';
import type { CostSeries, DayAheadPrice } from './quarter-hour-cost.ts';
import { QuarterHourSeries } from './quarter-hour-series.ts';
import { TariffBook } from './tariff-book.ts';
import type { InstantRange } from './tariff-book.ts';

const HOUR_MS = 3_600_000;

/** A site as the fold knows it: its key is `${tenant}/${siteId}`. */
export interface CostSite {
  readonly tenant: string;
  readonly siteId: string;
  readonly timeZone: string;
  readonly carbonZone: string | null;
}

export const costSiteKey = (tenant: string, siteId: string): string => `${tenant}/${siteId}`;

/** A local day of a site whose figures may have changed: `${siteKey}|${date}`. */
export interface DirtyDay {
  readonly siteKey: string;
  readonly date: string;
}

interface SiteBooks {
  readonly tenant: string;
  readonly siteId: string;
  /** From the site's registration, or from its energy events (they carry it) if those come first. */
  timeZone: string | null;
  carbonZone: string | null;
  readonly tariffs: TariffBook;
  readonly energy: EnergyBook;
  /** Local days with energy, by date: their start instants. */
  readonly days: Map<string, number>;
  /** The devices' shares of each quarter hour's figure, where the caller gave them. */
  readonly shares: Map<number, readonly DeviceShare[]>;
  /** The currency of the first version applied; a version in another is refused. */
  currency: string | null;
}

/**
 * Every site's cost inputs and one shared copy of the zones' price and carbon series: what
 * the cost processor holds. Each input is folded by a rule that does not depend on arrival
 * (cost-core's books), and each call names the local days whose figures may have changed, so
 * a writer recomputes exactly those. `day` computes a day's document from what is held: any
 * order of the same inputs gives the same documents (replay = live).
 *
 * One exception depends on order: a site's tariff versions share one currency, and the first
 * version applied sets it. The API refuses a second currency before publishing; a version in
 * another currency that reached the log some other way is refused here (`tariff` returns
 * `refused`), and on the devices topic a site's versions keep the log's order, so a replay
 * refuses the same one.
 */
export class CostFold {
  readonly #sites = new Map<string, SiteBooks>();
  readonly #series: CostSeries = {
    dayAheadPrices: new QuarterHourSeries<DayAheadPrice>(),
    carbonIntensity: new QuarterHourSeries<Decimal>(),
  };

  /**
   * A site registered or changed; a new carbon zone changes every day it has. Inputs of a site
   * may come before its registration (the fold reads several topics at once): its books are
   * made by whichever comes first.
   */
  site(site: CostSite): DirtyDay[] {
    const key = costSiteKey(site.tenant, site.siteId);
    const books = this.#books(site.tenant, site.siteId);
    const changed = books.carbonZone !== site.carbonZone;
    books.timeZone ??= site.timeZone;
    books.carbonZone = site.carbonZone;
    return changed ? this.#daysIn(key, books, { fromMs: -Infinity, toMs: Infinity }) : [];
  }

  /** A site's carbon zone set (or removed, null): every day it has changes. */
  siteCarbonZone(tenant: string, siteId: string, carbonZone: string | null): DirtyDay[] {
    const books = this.#books(tenant, siteId);
    if (books.carbonZone === carbonZone) return [];
    books.carbonZone = carbonZone;
    return this.#daysIn(costSiteKey(tenant, siteId), books, { fromMs: -Infinity, toMs: Infinity });
  }

  tariff(
    tenant: string,
    siteId: string,
    version: TariffVersion,
  ): { readonly dirty: DirtyDay[]; readonly refused?: string } {
    const key = costSiteKey(tenant, siteId);
    const books = this.#books(tenant, siteId);
    if (books.currency !== null && books.currency !== version.currency)
      return {
        dirty: [],
        refused: `site ${key} is priced in ${books.currency}; version ${version.id} is in ${version.currency}`,
      };
    books.currency = version.currency;
    const range = books.tariffs.apply(version);
    return { dirty: range === null ? [] : this.#daysIn(key, books, range) };
  }

  prices(publication: PricePublication): DirtyDay[] {
    // Any site may price a quarter hour dynamically in this zone (import or export, any version).
    return this.#quartersOfSites(applyPricePublication(this.#series, publication), () => true);
  }

  carbon(publication: CarbonPublication): DirtyDay[] {
    return this.#quartersOfSites(
      applyCarbonPublication(this.#series, publication),
      (books) => books.carbonZone === publication.zone,
    );
  }

  /** A site's energy of one quarter hour (a later revision replaces the figure). */
  energy(tenant: string, siteId: string, timeZone: string, figure: QuarterHourEnergy): DirtyDay[] {
    const key = costSiteKey(tenant, siteId);
    const books = this.#books(tenant, siteId);
    books.timeZone ??= timeZone;
    if (!books.energy.apply(figure)) return [];
    const zone = books.timeZone;
    const date = localDate(figure.startMs, zone);
    if (!books.days.has(date)) books.days.set(date, localDayStartMs(figure.startMs, zone));
    return [{ siteKey: key, date }];
  }

  /**
   * A site's energy of one quarter hour as its caller computed it afresh (from the site's
   * devices): held whatever its revision.
   */
  siteEnergy(
    tenant: string,
    siteId: string,
    timeZone: string,
    figure: QuarterHourEnergy,
    devices: readonly DeviceShare[] = [],
  ): DirtyDay[] {
    const key = costSiteKey(tenant, siteId);
    const books = this.#books(tenant, siteId);
    books.timeZone ??= timeZone;
    const sharesBefore = JSON.stringify(books.shares.get(figure.startMs) ?? []);
    books.shares.set(figure.startMs, devices);
    if (!books.energy.replace(figure) && sharesBefore === JSON.stringify(devices)) return [];
    const zone = books.timeZone;
    const date = localDate(figure.startMs, zone);
    if (!books.days.has(date)) books.days.set(date, localDayStartMs(figure.startMs, zone));
    return [{ siteKey: key, date }];
  }

  /** The stored form of a site's local day; undefined for a day without energy. */
  day(siteKey: string, date: string): SiteCostDay | undefined {
    const books = this.#sites.get(siteKey);
    const startMs = books?.days.get(date);
    if (books === undefined || books.timeZone === null || startMs === undefined) return undefined;
    const site = {
      tenant: books.tenant,
      siteId: books.siteId,
      timeZone: books.timeZone,
      carbonZone: books.carbonZone,
    };
    const endMs = localDayStartMs(startMs + 26 * HOUR_MS, site.timeZone);
    const [fee] = dayFeesBetween(books.tariffs, site.timeZone, startMs, endMs);
    if (fee === undefined) return undefined;
    const quarters = books.energy
      .between(startMs, endMs)
      .map((energy) =>
        quarterHourCost(site, books.tariffs.at(energy.startMs)?.version, energy, this.#series),
      );
    return siteCostDay(site, fee, quarters, (startMs) => books.shares.get(startMs) ?? []);
  }

  /** Every day of every site, for a writer that starts from nothing. */
  allDays(): DirtyDay[] {
    return [...this.#sites].flatMap(([siteKey, books]) =>
      [...books.days.keys()].map((date) => ({ siteKey, date })),
    );
  }

  #books(tenant: string, siteId: string): SiteBooks {
    const key = costSiteKey(tenant, siteId);
    let books = this.#sites.get(key);
    if (books === undefined) {
      books = {
        tenant,
        siteId,
        timeZone: null,
        carbonZone: null,
        tariffs: new TariffBook(),
        energy: new EnergyBook(),
        days: new Map(),
        shares: new Map(),
        currency: null,
      };
      this.#sites.set(key, books);
    }
    return books;
  }

  #daysIn(siteKey: string, books: SiteBooks, range: InstantRange): DirtyDay[] {
    const dirty: DirtyDay[] = [];
    const zone = books.timeZone;
    if (zone === null) return dirty;
    for (const [date, startMs] of books.days) {
      const endMs = localDayStartMs(startMs + 26 * HOUR_MS, zone);
      if (startMs < range.toMs && endMs > range.fromMs) dirty.push({ siteKey, date });
    }
    return dirty;
  }

  #quartersOfSites(quarters: readonly number[], concerns: (books: SiteBooks) => boolean) {
    if (quarters.length === 0) return [];
    const dirty: DirtyDay[] = [];
    for (const [siteKey, books] of this.#sites) {
      const zone = books.timeZone;
      if (zone === null || !concerns(books)) continue;
      const dates = new Set<string>();
      for (const quarterMs of quarters) {
        const date = localDate(quarterMs, zone);
        if (books.days.has(date)) dates.add(date);
      }
      for (const date of dates) dirty.push({ siteKey, date });
    }
    return dirty;
  }
}
