import { describe, expect, it } from 'vitest';
import { ttlClause, ttlMatches } from './retention.ts';

describe('ttlMatches', () => {
  it('takes the TTL QuestDB reports in its own unit as the one asked for', () => {
    expect(ttlMatches({ ttlValue: 90, ttlUnit: 'DAY' }, { count: 90, unit: 'DAYS' })).toBe(true);
    // QuestDB may report whole weeks and years
    expect(ttlMatches({ ttlValue: 2, ttlUnit: 'WEEK' }, { count: 14, unit: 'DAYS' })).toBe(true);
    expect(ttlMatches({ ttlValue: 1, ttlUnit: 'YEAR' }, { count: 12, unit: 'MONTHS' })).toBe(true);
  });

  it('sees a changed setting as a change', () => {
    expect(ttlMatches({ ttlValue: 90, ttlUnit: 'DAY' }, { count: 30, unit: 'DAYS' })).toBe(false);
    // none and some
    expect(ttlMatches({ ttlValue: 0, ttlUnit: 'HOUR' }, { count: 90, unit: 'DAYS' })).toBe(false);
    expect(ttlMatches({ ttlValue: 90, ttlUnit: 'DAY' }, { count: 0, unit: 'DAYS' })).toBe(false);
    // a calendar month is never a number of days
    expect(ttlMatches({ ttlValue: 1, ttlUnit: 'MONTH' }, { count: 30, unit: 'DAYS' })).toBe(false);
  });

  it('takes no TTL as none, whatever unit QuestDB names with it', () => {
    expect(ttlMatches({ ttlValue: 0, ttlUnit: 'HOUR' }, { count: 0, unit: 'MONTHS' })).toBe(true);
  });
});

describe('ttlClause', () => {
  it('spells a TTL as QuestDB takes it, and refuses what is not a whole count', () => {
    expect(ttlClause({ count: 90, unit: 'DAYS' })).toBe('90 DAYS');
    expect(ttlClause({ count: 0, unit: 'MONTHS' })).toBe('0 MONTHS');
    expect(() => ttlClause({ count: 1.5, unit: 'DAYS' })).toThrow(RangeError);
    expect(() => ttlClause({ count: -1, unit: 'DAYS' })).toThrow(RangeError);
  });
});
