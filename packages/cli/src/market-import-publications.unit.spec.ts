import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pricePublicationSchema } from '@gridstream/events';
import type { PricePoint } from './market-import-prices-csv.ts';
import {
  MARKET_TENANT,
  priceEvent,
  pricePublications,
  publishedAtOf,
} from './market-import-publications.ts';

const HOUR_MS = 3_600_000;
const point = (startMs: number, pricePerMWh: string, line = 2): PricePoint => ({
  line,
  zone: 'DE-LU',
  currency: 'EUR',
  startMs,
  resolutionMinutes: 60,
  pricePerMWh,
});

describe('publications of imported points', () => {
  it('groups by zone and UTC day, in order, each one valid for the event schema', () => {
    const first = Date.UTC(2026, 0, 1, 22);
    const publications = pricePublications(
      [
        point(first + 3 * HOUR_MS, '4'),
        point(first, '1'),
        point(first + HOUR_MS, '2'),
        point(first + 2 * HOUR_MS, '3'),
      ],
      '2026-01-05T10:00:00Z',
    );
    expect(
      publications.map((p) => [
        p.id.split(':').slice(0, 3).join(':'),
        p.points.map((x) => x.pricePerMWh),
      ]),
    ).toEqual([
      ['DE-LU:2026-01-01:60m', ['1', '2']],
      ['DE-LU:2026-01-02:60m', ['3', '4']],
    ]);
    for (const publication of publications)
      expect(pricePublicationSchema.safeParse(publication).success).toBe(true);
    const [firstPublication] = publications;
    if (firstPublication === undefined) throw new Error('no publication');
    const event = priceEvent(firstPublication);
    expect([event.subject, event.tenant, event.time]).toEqual([
      'DE-LU',
      MARKET_TENANT,
      '2026-01-05T10:00:00Z',
    ]);
  });

  it('property: the same points in any order give the same publications and events; a changed price changes its day’s id only', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 24 * 5 }), { minLength: 1, maxLength: 60 }),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (hours, seed, change) => {
          const points = hours.map((h) => point(Date.UTC(2026, 2, 1) + h * HOUR_MS, String(h)));
          const shuffled = [...points].sort(
            (a, b) => ((a.startMs * 7919 + seed) % 101) - ((b.startMs * 7919 + seed) % 101),
          );
          const once = pricePublications(points, '2026-03-10T00:00:00Z');
          expect(JSON.stringify(pricePublications(shuffled, '2026-03-10T00:00:00Z'))).toBe(
            JSON.stringify(once),
          );
          expect(once.map(priceEvent)).toEqual(
            pricePublications(shuffled, '2026-03-10T00:00:00Z').map(priceEvent),
          );
          // a corrected price in one hour: that day's id changes, the other days' do not
          const corrected = points.map((p, i) =>
            i === 0 ? { ...p, pricePerMWh: `${p.pricePerMWh}.${change}` } : p,
          );
          const after = pricePublications(corrected, '2026-03-10T00:00:00Z');
          const day = new Date(points[0]?.startMs ?? 0).toISOString().slice(0, 10);
          expect(
            after.map((p) =>
              p.id.includes(`:${day}:`)
                ? !once.some((o) => o.id === p.id)
                : once.some((o) => o.id === p.id),
            ),
          ).toEqual(after.map(() => true));
        },
      ),
    );
  });
});

describe('publishedAt', () => {
  const now = Date.UTC(2026, 5, 1, 12);
  it("defaults to the file's modification time to the second, so a newer file wins", () => {
    expect(publishedAtOf(undefined, Date.UTC(2026, 4, 1, 8, 30, 15) + 987, now)).toBe(
      '2026-05-01T08:30:15Z',
    );
    expect(publishedAtOf('2026-05-02T10:00:00+02:00', 0, now)).toBe('2026-05-02T08:00:00Z');
  });
  it('refuses a time consumers would dead-letter: ahead of the clock, before 2000, or unreadable', () => {
    expect(() => publishedAtOf(undefined, now + 10 * 60_000, now)).toThrow(
      /modification time.*--published-at/,
    );
    expect(() => publishedAtOf('1999-12-31T00:00:00Z', 0, now)).toThrow(/before the earliest/);
    expect(() => publishedAtOf('yesterday', 0, now)).toThrow(/ISO 8601/);
  });
});
