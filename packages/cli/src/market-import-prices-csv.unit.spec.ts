import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePriceCsv } from './market-import-prices-csv.ts';
import { utcText } from './market-import-csv.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const starts = (points: readonly { startMs: number }[]) => points.map((p) => utcText(p.startMs));

describe('ENTSO-E day-ahead price export', () => {
  it('reads the older hourly layout across the fall-back day: 25 hours, the repeated 02:00 in file order', () => {
    // given DE-LU's 27 October 2024 as the older export writes it: 02:00 twice, unmarked
    const parsed = parsePriceCsv(fixture('market-import-entsoe-legacy-fallback.csv'));
    // then the first 02:00 is summer time (00:00 UTC) and the second winter time (01:00 UTC)
    expect(parsed.problems).toEqual([]);
    expect(parsed.layout).toBe('ENTSO-E');
    expect(parsed.missingValues).toBe(1);
    expect(parsed.points).toHaveLength(24);
    expect(
      new Set(parsed.points.map((p) => [p.zone, p.currency, p.resolutionMinutes].join())),
    ).toEqual(new Set(['DE-LU,EUR,60']));
    const byStart = new Map(parsed.points.map((p) => [utcText(p.startMs), p.pricePerMWh]));
    expect(byStart.get('2024-10-26T22:00:00Z')).toBe('78.12'); // 00:00 CEST
    expect(byStart.get('2024-10-27T00:00:00Z')).toBe('61.00'); // 02:00 CEST
    expect(byStart.get('2024-10-27T01:00:00Z')).toBe('58.31'); // 02:00 CET
    expect(byStart.has('2024-10-27T03:00:00Z')).toBe(false); // 04:00 CET is "-"
    expect(byStart.get('2024-10-27T22:00:00Z')).toBe('66.66'); // 23:00 CET
    expect(byStart.get('2024-10-27T11:00:00Z')).toBe('-0.01'); // 12:00 CET: negative prices kept
  });

  it('reads the current 15-minute layout with (CEST)/(CET) marks, keeping the main auction only', () => {
    const parsed = parsePriceCsv(fixture('market-import-entsoe-current-fallback.csv'));
    expect(parsed.problems).toEqual([]);
    expect(parsed.otherSequenceRows).toBe(1);
    expect(parsed.missingValues).toBe(1);
    expect(parsed.points.every((p) => p.resolutionMinutes === 15 && p.zone === 'DE-LU')).toBe(true);
    expect(parsed.points.map((p) => [utcText(p.startMs), p.pricePerMWh])).toEqual([
      ['2025-10-25T23:30:00Z', '81.20'],
      ['2025-10-25T23:45:00Z', '80.05'],
      ['2025-10-26T00:00:00Z', '79.90'], // 02:00 (CEST)
      ['2025-10-26T00:15:00Z', '77.00'],
      ['2025-10-26T00:45:00Z', '74.10'], // 02:45 (CEST) - 02:00 (CET)
      ['2025-10-26T01:00:00Z', '70.00'], // 02:00 (CET)
      ['2025-10-26T01:15:00Z', '69.95'],
      ['2025-10-26T01:30:00Z', '68.40'],
      ['2025-10-26T01:45:00Z', '66.00'],
      ['2025-10-26T02:00:00Z', '65.50'], // 03:00 CET, "Without Sequence", not Sequence 2's 99.99
    ]);
  });

  it('reads a spring-forward day: 01:45 (CET) - 03:00 (CEST) is 15 minutes, 01:00 - 03:00 is an hour', () => {
    const parsed = parsePriceCsv(
      [
        '"MTU (CET/CEST)","Area","Sequence","Day-ahead Price (EUR/MWh)"',
        '"29/03/2026 01:45:00 (CET) - 29/03/2026 03:00:00 (CEST)","BZN|FR","Without Sequence","10"',
        '"29/03/2026 03:00:00 - 29/03/2026 03:15:00","BZN|FR","Without Sequence","11"',
      ].join('\n'),
    );
    expect(parsed.problems).toEqual([]);
    expect(starts(parsed.points)).toEqual(['2026-03-29T00:45:00Z', '2026-03-29T01:00:00Z']);
    const hourly = parsePriceCsv(
      '"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]","Currency","BZN|FR"\n"29.03.2026 01:00 - 29.03.2026 03:00","9.5","EUR",""\n',
    );
    expect(hourly.problems).toEqual([]);
    expect(hourly.points.map((p) => [utcText(p.startMs), p.resolutionMinutes, p.zone])).toEqual([
      ['2026-03-29T00:00:00Z', 60, 'FR'],
    ]);
  });

  it('reads an export in UTC, and one wrapped in an extra pair of quotes', () => {
    const utc = parsePriceCsv(
      '"MTU (UTC)","Area","Sequence","Day-ahead Price (EUR/MWh)"\n"01/01/2025 00:00:00 - 01/01/2025 00:15:00","BZN|FR","Without Sequence","18.92"\n',
    );
    expect(utc.points.map((p) => [utcText(p.startMs), p.pricePerMWh, p.currency])).toEqual([
      ['2025-01-01T00:00:00Z', '18.92', 'EUR'],
    ]);
    const wrapped = parsePriceCsv(
      '"MTU (CET/CEST),""Area"",""Day-ahead Price (EUR/MWh)"""\n"01/01/2025 00:00:00 - 01/01/2025 00:15:00,""BZN|GR"",""138.70"""\n',
    );
    expect(wrapped.problems).toEqual([]);
    expect(wrapped.points.map((p) => [utcText(p.startMs), p.pricePerMWh, p.zone])).toEqual([
      ['2024-12-31T23:00:00Z', '138.70', 'GR'],
    ]);
  });

  it('names the line and column of every bad row, and counts missing values without a point', () => {
    const parsed = parsePriceCsv(
      [
        '"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]","Currency","BZN|DE-LU"',
        '"01.01.2026 00:00 - 01.01.2026 01:00","50,5","EUR",""', // decimal comma
        '"01.01.2026 01:00 - 01.01.2026 01:30","50","EUR",""', // 30-minute MTU
        '"01.01.2026 02:00 - 01.01.2026 03:00","n/e","EUR",""',
        '"01.01.2026 03:00 - 01.01.2026 04:00","","EUR",""',
        '"01.01.2026 04:00 - 01.01.2026 05:00","-","EUR",""',
        '"32.01.2026 05:00 - 01.01.2026 06:00","40","EUR",""', // no such date
        '"01.01.2026 06:00 - 01.01.2026 07:00","1e3","EUR",""',
        '"01.01.2026 07:00 - 01.01.2026 08:00","40","EUR"', // a field short
        '"01.01.2026 08:00 - 01.01.2026 09:00","40","EUR",""',
        '"01.01.2026 08:00 - 01.01.2026 09:00","41","EUR",""', // the same hour again
      ].join('\n'),
    );
    expect(parsed.missingValues).toBe(3);
    expect(parsed.problems.map((p) => [p.line, p.column])).toEqual([
      [2, 'Day-ahead Price [EUR/MWh]'],
      [3, 'MTU (CET/CEST)'],
      [7, 'MTU (CET/CEST)'],
      [8, 'Day-ahead Price [EUR/MWh]'],
      [9, '(line)'],
      [11, 'MTU (CET/CEST)'],
    ]);
    expect(parsed.problems[0]?.message).toContain('a decimal point, not a comma');
    expect(parsed.problems[1]?.message).toContain('an MTU of 30 minutes');
    expect(parsed.problems[5]?.message).toContain('overlaps the interval of line 10');
    expect(starts(parsed.points)).toEqual(['2026-01-01T07:00:00Z']);
  });

  it('asks for --zone where the file names none, and refuses a zone that is not --zone', () => {
    const noZone =
      '"MTU (UTC)","Day-ahead Price [EUR/MWh]"\n"01.01.2026 00:00 - 01.01.2026 01:00","5"\n';
    expect(() => parsePriceCsv(noZone)).toThrow(/give --zone/);
    expect(parsePriceCsv(noZone, { zone: 'NL' }).points[0]?.zone).toBe('NL');
    expect(() =>
      parsePriceCsv(fixture('market-import-entsoe-legacy-fallback.csv'), { zone: 'FR' }),
    ).toThrow('the file is of DE-LU, not --zone FR');
    expect(() => parsePriceCsv('time,value\n1,2\n')).toThrow(/neither an ENTSO-E/);
  });
});

describe('plain start,price', () => {
  it('needs --zone and --currency, and infers hourly or 15-minute from the starts', () => {
    expect(() => parsePriceCsv('start,price\n2026-01-01T00:00:00Z,5\n')).toThrow(
      /--zone and --currency/,
    );
    const hourly = parsePriceCsv(
      'start,price\n2026-01-01T00:00:00Z,5\n2026-01-01T01:00:00+00:00,+6.\n2026-01-01T03:00:00+01:00,.5\n',
      { zone: 'DE-LU', currency: 'EUR' },
    );
    expect(hourly.problems).toEqual([]);
    expect(
      hourly.points.map((p) => [utcText(p.startMs), p.resolutionMinutes, p.pricePerMWh]),
    ).toEqual([
      ['2026-01-01T00:00:00Z', 60, '5'],
      ['2026-01-01T01:00:00Z', 60, '6'],
      ['2026-01-01T02:00:00Z', 60, '0.5'],
    ]);
    const quarters = parsePriceCsv(
      'start,price\n2026-01-01T00:00:00Z,5\n2026-01-01T00:15:00Z,6\n',
      {
        zone: 'DE-LU',
        currency: 'EUR',
      },
    );
    expect(quarters.points.map((p) => p.resolutionMinutes)).toEqual([15, 15]);
  });

  it('refuses a local time without an offset and a start off the resolution', () => {
    const parsed = parsePriceCsv(
      'start,price\n2026-01-01 00:00:00,5\n2026-01-01T00:10:00Z,6\n2026-01-01T00:15:00Z,7\n',
      { zone: 'DE-LU', currency: 'EUR' },
    );
    expect(parsed.problems.map((p) => [p.line, p.column])).toEqual([
      [2, 'start'],
      [3, 'start'],
    ]);
    expect(parsed.problems[1]?.message).toContain('not on a multiple of 15 minutes');
  });

  it('refuses a daily file rather than read it as sparse hours', () => {
    expect(() =>
      parsePriceCsv('start,price\n2026-01-01T00:00:00Z,5\n2026-01-02T00:00:00Z,6\n', {
        zone: 'DE-LU',
        currency: 'EUR',
      }),
    ).toThrow(/not an hourly or 15-minute series/);
  });

  it('property: any hourly series written as start,price reads back point for point, missing values counted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 * 3650 }),
        fc.array(
          fc.option(
            fc.tuple(fc.integer({ min: -500_000, max: 4_000_000 }), fc.integer({ min: 0, max: 2 })),
            { nil: undefined },
          ),
          { minLength: 2, maxLength: 60 },
        ),
        (firstHour, values) => {
          // given consecutive hours, some without a price
          const firstMs = Date.UTC(2020, 0, 1) + firstHour * 3_600_000;
          const written = values.map((v) =>
            v === undefined ? '-' : (v[0] / 10 ** v[1]).toFixed(v[1]),
          );
          const text = `start,price\n${written.map((price, i) => `${utcText(firstMs + i * 3_600_000)},${price}`).join('\n')}\n`;
          const parsed = parsePriceCsv(text, {
            zone: 'DE-LU',
            currency: 'EUR',
            resolutionMinutes: 60,
          });
          // then every price is read as written, at its hour, and no missing one became a point
          expect(parsed.problems).toEqual([]);
          expect(parsed.missingValues).toBe(written.filter((w) => w === '-').length);
          expect(parsed.points.map((p) => [p.startMs, p.pricePerMWh])).toEqual(
            written.flatMap((w, i) => (w === '-' ? [] : [[firstMs + i * 3_600_000, w]])),
          );
        },
      ),
    );
  });
});

const BERLIN = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Berlin',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

describe('ENTSO-E wall time, property', () => {
  it('any run of quarter hours of 2025 written as the older export writes it (CET/CEST, unmarked) comes back as UTC instants', () => {
    fc.assert(
      fc.property(
        // the evenings before the 2025 DST changes half the time, any day of the year otherwise
        fc.oneof(fc.constantFrom(87, 297), fc.integer({ min: 0, max: 364 })),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 200 }),
        (day, quarter, count) => {
          // given `count` consecutive quarter hours from around a local midnight of 2025 (a file
          // starts with a day: an unmarked one that starts inside the repeated hour is ambiguous)
          const firstMs = Date.UTC(2025, 0, 1, 22) + day * 86_400_000 + quarter * 900_000;
          const wall = (ms: number) => {
            const parts = BERLIN.formatToParts(ms);
            const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
            return `${get('day')}.${get('month')}.${get('year')} ${get('hour')}:${get('minute')}`;
          };
          const lines = ['"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]","Currency","BZN|DE-LU"'];
          for (let i = 0; i < count; i++) {
            const startMs = firstMs + i * 900_000;
            lines.push(`"${wall(startMs)} - ${wall(startMs + 900_000)}","${i}","EUR",""`);
          }
          const parsed = parsePriceCsv(lines.join('\n'));
          // then each row's start is its own instant: the fall-back hour's two passes in order
          expect(parsed.problems).toEqual([]);
          expect(parsed.points.map((p) => p.startMs)).toEqual(
            Array.from({ length: count }, (_, i) => firstMs + i * 900_000),
          );
        },
      ),
      { numRuns: 100 },
    );
  }, 30_000);
});
