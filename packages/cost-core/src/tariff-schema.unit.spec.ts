import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { tariffVersionInput, workdayPeakPeriods } from './cost-fixtures.ts';
import { pricePublicationSchema } from '@gridstream/events';
import { siteTariffSchema, tariffVersionSchema } from '@gridstream/events';
import type { TouPeriod, TouSeason } from '@gridstream/events';

function issuesOf(result: { success: boolean; error?: z.ZodError | undefined }) {
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
  }));
}

const touVersion = (seasons: TouSeason[]) =>
  tariffVersionInput({ importPrice: { kind: 'time_of_use', seasons } });

const allYear = (periods: TouPeriod[]): TouSeason => ({
  name: 'all_year',
  from: '01-01',
  to: '12-31',
  periods,
});

describe('tariffVersionSchema', () => {
  it('given a workday peak schedule over the whole week, when parsed, then it is accepted with the export VAT default', () => {
    const parsed = tariffVersionSchema.parse(touVersion([allYear(workdayPeakPeriods())]));
    expect(parsed.exportVatRate).toBe('0');
    expect(parsed.importPrice.kind).toBe('time_of_use');
  });

  it('given a schedule with no period for Saturday, then the gap is named at the season’s periods', () => {
    const periods = workdayPeakPeriods().map((p) =>
      p.weekdays.includes('sat') ? { ...p, weekdays: ['sun' as const] } : p,
    );
    expect(issuesOf(tariffVersionSchema.safeParse(touVersion([allYear(periods)])))).toEqual([
      { path: 'importPrice.seasons.0.periods', message: 'no period covers sat 00:00–24:00' },
    ]);
  });

  it('given a gap of one quarter hour on a workday, then that quarter hour is named', () => {
    const periods = workdayPeakPeriods().map((p) =>
      p.name === 'peak' ? { ...p, from: '07:15' } : p,
    );
    expect(issuesOf(tariffVersionSchema.safeParse(touVersion([allYear(periods)])))).toEqual([
      { path: 'importPrice.seasons.0.periods', message: 'no period covers mon 07:00–07:15' },
    ]);
  });

  it('given two periods that overlap on Wednesday evening, then the later period is named with where', () => {
    const periods = [
      ...workdayPeakPeriods(),
      {
        name: 'evening',
        weekdays: ['wed' as const],
        from: '19:00',
        to: '21:00',
        pricePerKWh: '0.5',
      },
    ];
    expect(issuesOf(tariffVersionSchema.safeParse(touVersion([allYear(periods)])))).toEqual([
      {
        path: 'importPrice.seasons.0.periods.4',
        message: 'overlaps periods[1] ("peak") at wed 19:00',
      },
    ]);
  });

  it('given seasons that leave March out, or overlap on 10-01, then the season path names it', () => {
    const winter = { ...allYear(workdayPeakPeriods()), name: 'winter', from: '10-01', to: '02-29' };
    const summer = { ...allYear(workdayPeakPeriods()), name: 'summer', from: '04-01', to: '10-01' };
    expect(issuesOf(tariffVersionSchema.safeParse(touVersion([winter, summer])))).toEqual([
      { path: 'importPrice.seasons.1', message: 'overlaps seasons[0] ("winter") on 10-01' },
      { path: 'importPrice.seasons', message: 'no season covers 03-01' },
    ]);
  });

  it('given a season wrapping over new year with its complement, then it is accepted', () => {
    const winter = { ...allYear(workdayPeakPeriods()), name: 'winter', from: '10-01', to: '03-31' };
    const summer = { ...allYear(workdayPeakPeriods()), name: 'summer', from: '04-01', to: '09-30' };
    expect(tariffVersionSchema.safeParse(touVersion([winter, summer])).success).toBe(true);
  });

  it('given a period over midnight, off the quarter hour, or naming a weekday twice, then each field is named', () => {
    const bad: TouPeriod[] = [
      { name: 'night', weekdays: ['mon'], from: '22:00', to: '06:00', pricePerKWh: '0.2' },
      { name: 'odd', weekdays: ['tue'], from: '07:10', to: '08:00', pricePerKWh: '0.2' },
      { name: 'twice', weekdays: ['wed', 'wed'], from: '01:00', to: '02:00', pricePerKWh: '0.2' },
    ];
    const paths = issuesOf(tariffVersionSchema.safeParse(touVersion([allYear(bad)]))).map(
      (issue) => issue.path,
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        'importPrice.seasons.0.periods.0.to',
        'importPrice.seasons.0.periods.1.from',
        'importPrice.seasons.0.periods.2.weekdays',
      ]),
    );
  });

  it('given amounts as numbers or with a comma, a rate of 100 %, and an unknown currency, then each is refused at its field', () => {
    const input = {
      ...tariffVersionInput(),
      vatRate: '1',
      dailyFee: '-0.1',
      currency: 'XYZ',
      importPrice: { kind: 'fixed', pricePerKWh: '0,31' },
      exportPrice: { kind: 'fixed', pricePerKWh: 0.08 },
    };
    expect(
      issuesOf(tariffVersionSchema.safeParse(input))
        .map((i) => i.path)
        .sort(),
    ).toEqual([
      'currency',
      'dailyFee',
      'exportPrice.pricePerKWh',
      'importPrice.pricePerKWh',
      'vatRate',
    ]);
  });

  it('given an effective instant off the quarter hour or with an offset, then effectiveFrom is refused', () => {
    for (const effectiveFrom of ['2026-01-01T00:07:00Z', '2026-01-01T01:00:00+01:00']) {
      expect(
        issuesOf(tariffVersionSchema.safeParse(tariffVersionInput({ effectiveFrom }))).map(
          (i) => i.path,
        ),
      ).toEqual(['effectiveFrom']);
    }
  });

  it('given a dynamic price whose floor is above its cap, then the cap is named', () => {
    const input = tariffVersionInput({
      importPrice: {
        kind: 'dynamic',
        biddingZone: 'DE-LU',
        markupPerKWh: '0.18',
        floorPerKWh: '0.10',
        capPerKWh: '0.05',
      },
    });
    expect(issuesOf(tariffVersionSchema.safeParse(input))).toEqual([
      { path: 'importPrice.capPerKWh', message: 'cap is below the floor' },
    ]);
  });

  it('given a rate and a floor that are not decimal text, then each is one issue, not a thrown error', () => {
    const input = tariffVersionInput({
      vatRate: '0,19',
      importPrice: {
        kind: 'dynamic',
        biddingZone: 'DE-LU',
        markupPerKWh: '0.18',
        floorPerKWh: 'none',
        capPerKWh: '0.60',
      },
    });
    expect(issuesOf(tariffVersionSchema.safeParse(input)).map((i) => i.path)).toEqual([
      'vatRate',
      'importPrice.floorPerKWh',
    ]);
  });

  it('given a time-of-use export price, then it is refused: feed-in is fixed or dynamic', () => {
    const input = {
      ...tariffVersionInput(),
      exportPrice: { kind: 'time_of_use', seasons: [allYear(workdayPeakPeriods())] },
    };
    expect(issuesOf(tariffVersionSchema.safeParse(input)).map((i) => i.path)).toEqual([
      'exportPrice.kind',
    ]);
  });
});

describe('siteTariffSchema', () => {
  it('given versions in two currencies, then the second currency is refused at its index', () => {
    const versions = [
      tariffVersionInput(),
      tariffVersionInput({ id: 'v2', currency: 'CHF', effectiveFrom: '2026-06-01T00:00:00Z' }),
    ];
    expect(issuesOf(siteTariffSchema.safeParse(versions))).toEqual([
      { path: '1.currency', message: "a site's tariff has one currency: EUR, not CHF" },
    ]);
  });
});

describe('pricePublicationSchema', () => {
  const publication = {
    id: 'p1',
    biddingZone: 'DE-LU',
    publishedAt: '2026-03-28T11:00:00Z',
    currency: 'EUR',
    resolutionMinutes: 60,
    points: [
      { start: '2026-03-28T23:00:00Z', pricePerMWh: '85.12' },
      { start: '2026-03-29T00:15:00Z', pricePerMWh: '-3.5' },
      { start: '2026-03-28T23:00:00Z', pricePerMWh: '80' },
    ],
  };

  it('given an hourly point off the hour and an interval given twice, then each point is named', () => {
    expect(issuesOf(pricePublicationSchema.safeParse(publication))).toEqual([
      {
        path: 'points.1.start',
        message: 'a 60-minute point starts on a multiple of 60 minutes (UTC)',
      },
      { path: 'points.2.start', message: 'the same interval is given twice in one publication' },
    ]);
  });

  it('given the same points at 15 minutes without the repeat, then negative prices are accepted', () => {
    const quarterHourly = {
      ...publication,
      resolutionMinutes: 15,
      points: publication.points.slice(0, 2),
    };
    expect(pricePublicationSchema.parse(quarterHourly).points[1]?.pricePerMWh).toBe('-3.5');
  });
});
