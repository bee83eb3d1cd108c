import { carbonPublicationSchema } from '@gridstream/events';
import { describe, expect, it } from 'vitest';
import { demoCarbonDays, demoCarbonPublications } from './demo-carbon.ts';
import { DEMO_MARKETS } from './fleet.ts';

const DAY_MS = 86_400_000;
const dayStartMs = Date.parse('2026-10-25T00:00:00Z'); // Berlin and London change clocks

describe('the demo fleet carbon series', () => {
  it('publishes a valid hourly series for every demo zone, lower at local noon than at night', () => {
    const publications = demoCarbonPublications(dayStartMs);
    expect(publications.map((p) => p.zone).sort()).toEqual(
      Object.values(DEMO_MARKETS)
        .map((m) => m.carbonZone)
        .sort(),
    );
    for (const publication of publications) {
      expect(carbonPublicationSchema.parse(publication)).toEqual(publication);
      expect(publication.points).toHaveLength(24);
      expect(publication.publishedAt).toBe('2026-10-24T12:00:00.000Z');
    }
    const de = publications.find((p) => p.zone === 'DE');
    // 12:00 UTC is 13:00 in Berlin (CET after the change): the solar low; 01:00 UTC is night
    expect(Number(de?.points[12]?.gramsPerKWh)).toBe(Math.round(420 * 0.7));
    expect(Number(de?.points[1]?.gramsPerKWh)).toBe(420);
  });

  it('is the same publication for the same day, so publishing it again changes nothing', () => {
    expect(demoCarbonPublications(dayStartMs)).toEqual(demoCarbonPublications(dayStartMs));
    expect(demoCarbonPublications(dayStartMs + DAY_MS)[0]?.id).not.toBe(
      demoCarbonPublications(dayStartMs)[0]?.id,
    );
  });

  it("covers yesterday and today (UTC), never a day ahead of the clock's", () => {
    expect(demoCarbonDays(dayStartMs + 5 * 3_600_000)).toEqual([dayStartMs - DAY_MS, dayStartMs]);
  });
});
