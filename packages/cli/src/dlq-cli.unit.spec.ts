import { describe, expect, it } from 'vitest';
import { letterFilter, parseTime } from './dlq-cli.ts';

describe('gridstream dlq options', () => {
  it('take an instant or an age for --since and --until', () => {
    const now = Date.UTC(2026, 11, 5, 12);
    expect(parseTime('30m', '--since', now).toISOString()).toBe('2026-12-05T11:30:00.000Z');
    expect(parseTime('7d', '--since', now).toISOString()).toBe('2026-11-28T12:00:00.000Z');
    expect(parseTime('2026-12-05T10:00Z', '--since', now).toISOString()).toBe(
      '2026-12-05T10:00:00.000Z',
    );
    expect(() => parseTime('yesterday', '--since', now)).toThrow(RangeError);
    expect(() => parseTime('5', '--until', now)).toThrow(/--until '5' is neither/);
  });

  it('make a filter of what is given, and refuse what cannot be one', () => {
    expect(
      letterFilter({ topic: 'readings', group: 'g', 'not-redriven': true }, ['1-2'], {
        groupIsFilter: true,
      }),
    ).toEqual({
      ids: new Set(['1-2']),
      sourceTopic: 'readings',
      consumerGroup: 'g',
      redriven: false,
    });
    // on redrive, --group is where the letters go, not which
    expect(letterFilter({ group: 'g' }, [], { groupIsFilter: false })).toEqual({});
    expect(() => letterFilter({ stage: 'parse' }, [], { groupIsFilter: true })).toThrow(RangeError);
    expect(() => letterFilter({ topic: 'reading' }, [], { groupIsFilter: true })).toThrow(
      /neither a topic name/,
    );
    expect(() => letterFilter({}, ['12'], { groupIsFilter: true })).toThrow(/not a letter id/);
    expect(() =>
      letterFilter({ redriven: true, 'not-redriven': true }, [], { groupIsFilter: true }),
    ).toThrow(/exclude each other/);
  });
});
