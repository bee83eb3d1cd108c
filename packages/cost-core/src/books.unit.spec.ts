import { describe, expect, it } from 'vitest';
import { ms, tariffVersion } from './cost-fixtures.ts';
import { EnergyBook } from './energy-book.ts';
import type { QuarterHourEnergy } from './energy-book.ts';
import { TariffBook } from './tariff-book.ts';

describe('TariffBook', () => {
  const first = tariffVersion({ id: 'a', publishedAt: '2025-12-01T00:00:00Z' });
  const corrected = tariffVersion({
    id: 'b',
    publishedAt: '2025-12-02T00:00:00Z',
    dailyFee: '0.60',
  });
  const june = tariffVersion({ id: 'c', effectiveFrom: '2026-06-01T00:00:00Z' });

  it('given two versions for the same instant, then the later publication holds it in either order', () => {
    for (const order of [
      [first, corrected],
      [corrected, first],
    ]) {
      const book = new TariffBook();
      for (const version of order) book.apply(version);
      expect(book.at(ms('2026-03-01T00:00:00Z'))?.version.id).toBe('b');
      expect(book.versions()).toHaveLength(1);
    }
  });

  it('given a correction, then apply names the span up to the next version; an older one changes nothing', () => {
    const book = new TariffBook();
    book.apply(june);
    book.apply(corrected);
    expect(book.apply(first)).toBeNull();
    expect(book.apply({ ...corrected, id: 'z', publishedAt: '2025-12-03T00:00:00Z' })).toEqual({
      fromMs: ms('2026-01-01T00:00:00Z'),
      toMs: ms('2026-06-01T00:00:00Z'),
    });
    expect(book.apply({ ...june, id: 'y', publishedAt: '2026-05-01T00:00:00Z' })).toEqual({
      fromMs: ms('2026-06-01T00:00:00Z'),
      toMs: Infinity,
    });
  });

  it('given an instant before the first version, at its start, and just before the next, then the version in force is found', () => {
    const book = new TariffBook();
    book.apply(june);
    book.apply(first);
    expect(book.at(ms('2026-01-01T00:00:00Z') - 1)).toBeUndefined();
    expect(book.at(ms('2026-01-01T00:00:00Z'))?.version.id).toBe('a');
    expect(book.at(ms('2026-06-01T00:00:00Z') - 1)?.version.id).toBe('a');
    expect(book.at(ms('2026-06-01T00:00:00Z'))?.version.id).toBe('c');
  });
});

describe('EnergyBook', () => {
  const figure = (revision: number, importWh: number): QuarterHourEnergy => ({
    startMs: ms('2026-02-02T10:00:00Z'),
    importWh,
    exportWh: 0,
    selfConsumedWh: null,
    revision,
  });

  it('given two figures of one revision that differ (a producer error), then the same one is kept in either order', () => {
    const kept = [
      [figure(3, 10), figure(3, 20)],
      [figure(3, 20), figure(3, 10)],
    ].map((order) => {
      const book = new EnergyBook();
      for (const f of order) book.apply(f);
      return book.at(ms('2026-02-02T10:00:00Z'))?.importWh;
    });
    expect(kept[0]).toBe(kept[1]);
  });

  it('given a figure off the quarter hour, negative or not finite, then it is refused', () => {
    const book = new EnergyBook();
    expect(() => book.apply({ ...figure(1, 10), startMs: ms('2026-02-02T10:05:00Z') })).toThrow(
      RangeError,
    );
    expect(() => book.apply(figure(1, -1))).toThrow(RangeError);
    expect(() => book.apply(figure(1, Number.NaN))).toThrow(RangeError);
  });
});
