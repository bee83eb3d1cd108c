import { z } from 'zod';
import {
  MONTH_DAYS,
  QUARTERS_PER_DAY,
  WALL_TIME,
  WEEKDAYS,
  isMonthDay,
  monthDaysBetween,
  quarterOfDay,
  wallTimeOfQuarter,
} from './cost-calendar.ts';
import type { Weekday } from './cost-calendar.ts';

/**
 * A site's tariff as zod schemas, so the same shapes can be event payloads (docs/cost.md).
 * Amounts are decimal text, never JavaScript numbers: `'0.3124'` is exactly 0.3124.
 */

const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?$/;

/**
 * Compares two decimal texts (DECIMAL_TEXT) exactly, without a decimal library: the event
 * catalogue depends on zod only. -1, 0 or 1 as a is below, equal to or above b.
 */
export function compareDecimalText(a: string, b: string): -1 | 0 | 1 {
  const negA = a.startsWith('-');
  const negB = b.startsWith('-');
  const [intA = '', fracA = ''] = (negA ? a.slice(1) : a).split('.');
  const [intB = '', fracB = ''] = (negB ? b.slice(1) : b).split('.');
  const width = Math.max(fracA.length, fracB.length);
  const digitsA = (intA + fracA.padEnd(width, '0')).replace(/^0+(?=\d)/, '');
  const digitsB = (intB + fracB.padEnd(width, '0')).replace(/^0+(?=\d)/, '');
  const zeroA = /^0*$/.test(digitsA);
  const zeroB = /^0*$/.test(digitsB);
  const signA = zeroA ? 0 : negA ? -1 : 1;
  const signB = zeroB ? 0 : negB ? -1 : 1;
  if (signA !== signB) return signA < signB ? -1 : 1;
  if (signA === 0) return 0;
  const magnitude =
    digitsA.length !== digitsB.length
      ? digitsA.length < digitsB.length
        ? -1
        : 1
      : digitsA < digitsB
        ? -1
        : digitsA > digitsB
          ? 1
          : 0;
  if (magnitude === 0) return 0; // never -0: equal negatives compare as 0, not -0
  return signA < 0 ? (-magnitude as -1 | 1) : magnitude;
}

export const decimalTextSchema = z
  .string()
  .regex(DECIMAL_TEXT, 'a decimal number as text, e.g. "0.3124"');

// zod runs every check of a field even after one failed: a comparison must not parse text the
// regex has already refused (the issue is reported once, by the regex).
const isDecimalText = (text: string | undefined): text is string =>
  text !== undefined && DECIMAL_TEXT.test(text);

const nonNegativeDecimalSchema = decimalTextSchema.refine(
  (text) => !text.startsWith('-'),
  'must not be negative',
);

/** A rate as a fraction: '0.19' is 19 %. */
const rateSchema = nonNegativeDecimalSchema.refine(
  (text) => !isDecimalText(text) || compareDecimalText(text, '1') < 0,
  'a rate is a fraction below 1, e.g. "0.19" for 19 %',
);

export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. "EUR"')
  .refine((code) => Intl.supportedValuesOf('currency').includes(code), 'not an ISO 4217 code');

/** An instant in UTC, ISO 8601 with Z. */
export const utcInstantSchema = z.iso.datetime();

/** A bidding zone as its ENTSO-E short name or EIC code, e.g. "DE-LU" or "10Y1001A1001A82H". */
export const zoneSchema = z
  .string()
  .min(1)
  .max(64)
  // A zone is a Kafka key and a MongoDB field: the characters of an entity id.
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only, e.g. "DE-LU"');

export const fixedPriceSchema = z.object({
  kind: z.literal('fixed'),
  pricePerKWh: decimalTextSchema,
});

/**
 * Day-ahead price of `biddingZone` plus `markupPerKWh` (grid fees, levies, the supplier's
 * margin), then held within `floorPerKWh`..`capPerKWh` where given (docs/cost.md, "Dynamic").
 */
export const dynamicPriceSchema = z
  .object({
    kind: z.literal('dynamic'),
    biddingZone: zoneSchema,
    markupPerKWh: decimalTextSchema,
    floorPerKWh: decimalTextSchema.optional(),
    capPerKWh: decimalTextSchema.optional(),
  })
  .superRefine((price, ctx) => {
    if (
      isDecimalText(price.floorPerKWh) &&
      isDecimalText(price.capPerKWh) &&
      compareDecimalText(price.floorPerKWh, price.capPerKWh) > 0
    ) {
      ctx.addIssue({ code: 'custom', path: ['capPerKWh'], message: 'cap is below the floor' });
    }
  });

const weekdaySchema = z.enum(WEEKDAYS);

export const touPeriodSchema = z
  .object({
    name: z.string().min(1).max(64),
    weekdays: z.array(weekdaySchema).min(1),
    /** Local wall time the period starts at, on a quarter hour. */
    from: z.string().regex(WALL_TIME, 'HH:MM on a quarter hour'),
    /** Local wall time it ends at (excluded), '24:00' for midnight. */
    to: z.string().regex(WALL_TIME, 'HH:MM on a quarter hour, or 24:00'),
    pricePerKWh: decimalTextSchema,
  })
  .superRefine((period, ctx) => {
    if (period.from === '24:00') {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'a period cannot start at 24:00' });
    } else if (quarterOfDay(period.to) <= quarterOfDay(period.from)) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: 'must be after from; a period over midnight is two periods',
      });
    }
    if (new Set(period.weekdays).size !== period.weekdays.length) {
      ctx.addIssue({ code: 'custom', path: ['weekdays'], message: 'a weekday is named twice' });
    }
  });

export type TouPeriod = z.infer<typeof touPeriodSchema>;

const QUARTERS_PER_WEEK = 7 * QUARTERS_PER_DAY;

function describeQuarterOfWeek(quarterOfWeek: number): string {
  const weekday = WEEKDAYS[Math.floor(quarterOfWeek / QUARTERS_PER_DAY)] ?? 'mon';
  const quarter = quarterOfWeek % QUARTERS_PER_DAY;
  return `${weekday} ${wallTimeOfQuarter(quarter)}`;
}

function quartersOfWeek(period: TouPeriod): number[] {
  const from = quarterOfDay(period.from);
  const to = quarterOfDay(period.to);
  return period.weekdays.flatMap((weekday: Weekday) => {
    const dayStart = WEEKDAYS.indexOf(weekday) * QUARTERS_PER_DAY;
    return Array.from({ length: Math.max(0, to - from) }, (_, i) => dayStart + from + i);
  });
}

/**
 * The periods of a season cover every minute of the week exactly once. Boundaries lie on
 * quarter hours, so checking the 672 quarter hours of a week checks every minute.
 */
function checkWeekCoverage(periods: readonly TouPeriod[], ctx: z.RefinementCtx): void {
  const owner = new Array<number | undefined>(QUARTERS_PER_WEEK).fill(undefined);
  periods.forEach((period, index) => {
    for (const quarter of quartersOfWeek(period)) {
      const earlier = owner[quarter];
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['periods', index],
          message: `overlaps periods[${earlier}] ("${periods[earlier]?.name ?? ''}") at ${describeQuarterOfWeek(quarter)}`,
        });
        return;
      }
      owner[quarter] = index;
    }
  });
  const gapStart = owner.findIndex((index) => index === undefined);
  if (gapStart >= 0) {
    let gapEnd = gapStart;
    while (
      gapEnd + 1 < QUARTERS_PER_WEEK &&
      owner[gapEnd + 1] === undefined &&
      (gapEnd + 1) % QUARTERS_PER_DAY !== 0
    ) {
      gapEnd += 1;
    }
    const endQuarter = (gapEnd % QUARTERS_PER_DAY) + 1;
    ctx.addIssue({
      code: 'custom',
      path: ['periods'],
      message: `no period covers ${describeQuarterOfWeek(gapStart)}–${wallTimeOfQuarter(endQuarter)}`,
    });
  }
}

export const touSeasonSchema = z
  .object({
    name: z.string().min(1).max(64),
    /** First local date of the season, 'MM-DD', every year. */
    from: z.string().refine(isMonthDay, 'a month-day, MM-DD'),
    /** Last local date of the season (included), 'MM-DD'; before `from` wraps over new year. */
    to: z.string().refine(isMonthDay, 'a month-day, MM-DD'),
    periods: z.array(touPeriodSchema).min(1),
  })
  .superRefine((season, ctx) => {
    checkWeekCoverage(season.periods, ctx);
  });

export type TouSeason = z.infer<typeof touSeasonSchema>;

/** The seasons cover every day of the year (02-29 too) exactly once. */
export const timeOfUsePriceSchema = z
  .object({
    kind: z.literal('time_of_use'),
    seasons: z.array(touSeasonSchema).min(1),
  })
  .superRefine((price, ctx) => {
    const owner = new Map<string, number>();
    price.seasons.forEach((season, index) => {
      for (const monthDay of monthDaysBetween(season.from, season.to)) {
        const earlier = owner.get(monthDay);
        if (earlier !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['seasons', index],
            message: `overlaps seasons[${earlier}] ("${price.seasons[earlier]?.name ?? ''}") on ${monthDay}`,
          });
          return;
        }
        owner.set(monthDay, index);
      }
    });
    const uncovered = MONTH_DAYS.find((monthDay) => !owner.has(monthDay));
    if (uncovered !== undefined && owner.size > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['seasons'],
        message: `no season covers ${uncovered}`,
      });
    }
  });

export type TimeOfUsePrice = z.infer<typeof timeOfUsePriceSchema>;

export const importPriceSchema = z.discriminatedUnion('kind', [
  fixedPriceSchema,
  timeOfUsePriceSchema,
  dynamicPriceSchema,
]);
export type ImportPrice = z.infer<typeof importPriceSchema>;

export const exportPriceSchema = z.discriminatedUnion('kind', [
  fixedPriceSchema,
  dynamicPriceSchema,
]);
export type ExportPrice = z.infer<typeof exportPriceSchema>;
export type DynamicPrice = z.infer<typeof dynamicPriceSchema>;

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * One version of a site's tariff, in force from `effectiveFrom` until the next version's.
 * Two versions with the same `effectiveFrom`: the later publication wins (`publishedAt`, then
 * `id`), so a corrected version replaces the one it corrects in any order of arrival.
 */
export const tariffVersionSchema = z.object({
  id: z.string().min(1).max(128),
  /** On a quarter hour: every quarter hour is priced by one version. */
  effectiveFrom: utcInstantSchema.refine(
    (text) => Number.isNaN(Date.parse(text)) || Date.parse(text) % QUARTER_HOUR_MS === 0,
    'must be on a quarter hour (UTC), e.g. 2026-01-01T00:00:00Z',
  ),
  publishedAt: utcInstantSchema,
  currency: currencySchema,
  /** VAT on import and on the daily fee, e.g. '0.19'. */
  vatRate: rateSchema,
  /** VAT on export earnings; '0' (the default) for a household not registered for VAT. */
  exportVatRate: rateSchema.default('0'),
  /** Charged once per local day of the site, net of VAT. */
  dailyFee: nonNegativeDecimalSchema,
  importPrice: importPriceSchema,
  exportPrice: exportPriceSchema,
});

/** A parsed tariff version (defaults filled in). */
export type TariffVersion = z.infer<typeof tariffVersionSchema>;
/** A tariff version as written in an event or a request, before defaults. */
export type TariffVersionInput = z.input<typeof tariffVersionSchema>;

/** All versions of one site's tariff share one currency: totals never mix currencies. */
export const siteTariffSchema = z.array(tariffVersionSchema).superRefine((versions, ctx) => {
  const first = versions[0];
  versions.forEach((version, index) => {
    if (first !== undefined && version.currency !== first.currency) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'currency'],
        message: `a site's tariff has one currency: ${first.currency}, not ${version.currency}`,
      });
    }
  });
});
