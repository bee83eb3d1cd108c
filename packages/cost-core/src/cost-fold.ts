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

/** The same devices with the same figures, in the same order (what a day's document shows). */
function sameShares(a: readonly DeviceShare[], b: readonly DeviceShare[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (x, i) =>
        x.deviceId === b[i]?.deviceId &&
        x.role === b[i].role &&
        x.importWh === b[i].importWh &&
        x.exportWh === b[i].exportWh,
    )
  );
}

/** A site as the fold knows it: its key is `${tenant}/${siteId}`. */
export interface CostSite {
  readonly tenant: string;
  readonly siteId: string;
  readonly timeZone: string;
  readonly carbonZone: string | null;
}

export const costSiteKey = (tenant: string, siteId: string): string => `${tenant}/${siteId}`;

/** The devices' shares of a site's quarter hour, from whoever holds them. */
export type SharesOf = (tenant: string, siteId: string, startMs: number) => readonly DeviceShare[];

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
  /**
   * The site's local days, by date: their start instants. Every day from its first day with
   * energy to its last, those between without energy too: a day pays its fixed fee whether or
   * not its meter reported (docs/cost.md, "What counts as a day").
   */
  readonly days: Map<string, number>;
  /** The start instants of the first and the last of `days` (NaN while there is none). */
  firstDayMs: number;
  lastDayMs: number;
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
  readonly #sharesOf: SharesOf | undefined;
  readonly #series: CostSeries = {
    dayAheadPrices: new QuarterHourSeries<DayAheadPrice>(),
    carbonIntensity: new QuarterHourSeries<Decimal>(),
  };

  /**
   * `sharesOf`, where given, answers the devices' shares of a site's quarter hour when a day is
   * computed, so the fold holds none (the cost processor's SiteQuarters holds them in columns);
   * without it the fold holds the shares `siteEnergy` is given.
   */
  constructor(options: { readonly sharesOf?: SharesOf } = {}) {
    this.#sharesOf = options.sharesOf;
  }

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
    return this.#dayOf(key, books, books.timeZone, figure.startMs);
  }

  /**
   * A site's energy of one quarter hour as its caller computed it afresh (from the site's
   * devices): held whatever its revision. `devices` are the shares the fold holds where it was
   * made without `sharesOf`; with it, the caller's revision must change whenever the shares do
   * (the cost processor's is the sum of its members' offsets).
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
    const sharesUnchanged = sameShares(books.shares.get(figure.startMs) ?? [], devices);
    if (this.#sharesOf === undefined) books.shares.set(figure.startMs, devices);
    if (!books.energy.replace(figure) && sharesUnchanged) return [];
    return this.#dayOf(key, books, books.timeZone, figure.startMs);
  }

  /**
   * The stored form of a site's local day; undefined for a day outside the site's span of days
   * (before its first day with energy, after its last). A day in it without energy is its fee.
   */
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
    const sharesOf = this.#sharesOf;
    return siteCostDay(site, fee, quarters, (startMs) =>
      sharesOf === undefined
        ? (books.shares.get(startMs) ?? [])
        : sharesOf(books.tenant, books.siteId, startMs),
    );
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
        firstDayMs: Number.NaN,
        lastDayMs: Number.NaN,
        shares: new Map(),
        currency: null,
      };
      this.#sites.set(key, books);
    }
    return books;
  }

  /**
   * The day of an energy figure at `instantMs`; where it lies outside the site's span of days,
   * the span grows to it, and every day added is named (each now pays its fee).
   */
  #dayOf(siteKey: string, books: SiteBooks, zone: string, instantMs: number): DirtyDay[] {
    const date = localDate(instantMs, zone);
    if (books.days.has(date)) return [{ siteKey, date }];
    const startMs = localDayStartMs(instantMs, zone);
    const nextDay = (dayMs: number) => localDayStartMs(dayMs + 26 * HOUR_MS, zone);
    const empty = books.days.size === 0;
    let [fromMs, toMs] = [startMs, nextDay(startMs)];
    if (!empty)
      if (startMs < books.firstDayMs) toMs = books.firstDayMs;
      else fromMs = nextDay(books.lastDayMs);
    const added: DirtyDay[] = [];
    for (let dayMs = fromMs; dayMs < toMs; dayMs = nextDay(dayMs)) {
      const day = localDate(dayMs, zone);
      books.days.set(day, dayMs);
      added.push({ siteKey, date: day });
    }
    books.firstDayMs = empty ? startMs : Math.min(books.firstDayMs, startMs);
    books.lastDayMs = empty ? startMs : Math.max(books.lastDayMs, startMs);
    return added;
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
