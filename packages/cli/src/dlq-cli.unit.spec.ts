import { describe, expect, it } from 'vitest';
import type { RedriveRecord } from '@gridstream/kafka';
import { DLQ_USAGE, letterFilter, parseTime, redriveReport } from './dlq-cli.ts';

const record = (letter: string, group: string | null): RedriveRecord => ({
  letter,
  at: '2026-12-06T02:00:00.000Z',
  topic: 'gridstream.readings',
  partition: 0,
  group,
  upcast: false,
  by: 'ops@host',
});

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
    expect(letterFilter({ topic: 'readings', group: 'g', 'not-redriven': true }, ['1-2'])).toEqual({
      ids: new Set(['1-2']),
      sourceTopic: 'readings',
      consumerGroup: 'g',
      redriven: false,
    });
    expect(letterFilter({ topic: 'market' }, [])).toEqual({ sourceTopic: 'market' });
    expect(() => letterFilter({ stage: 'parse' }, [])).toThrow(RangeError);
    expect(() => letterFilter({ topic: 'reading' }, [])).toThrow(/neither a topic name/);
    expect(() => letterFilter({}, ['12'])).toThrow(/not a letter id/);
    expect(() => letterFilter({ redriven: true, 'not-redriven': true }, [])).toThrow(
      /exclude each other/,
    );
  });

  it('name --group a filter and --to-group the target of a redrive', () => {
    expect(DLQ_USAGE).toMatch(/--to-group G \| --all-groups\] \[--force\]/);
    expect(DLQ_USAGE).toMatch(/\n {2}--group G {10}the consumer group that dead-lettered it\n/);
    expect(DLQ_USAGE).toContain('(readings, devices, commands, gateway, alerts, energy, market)');
  });
});

describe('what dlq redrive reports', () => {
  it('exits 0 when every letter went back', () => {
    // given two letters put back, one for every group
    const report = redriveReport(
      { redriven: [record('0-1', 'g'), record('0-2', null)], refused: [] },
      false,
    );
    // then each has its line, and the status is 0
    expect(report).toEqual({
      lines: [
        '0-1  redriven to gridstream.readings/0 for group g',
        '0-2  redriven to gridstream.readings/0 for every group',
        '2 redriven, 0 refused',
      ],
      exitCode: 0,
    });
  });

  it('exits 1 and prints each refusal with its reason when any letter was refused', () => {
    // given one letter put back and two refused
    const outcome = {
      redriven: [record('0-1', 'g')],
      refused: [
        { letter: '0-2', reason: 'already redriven at 2026-12-05T10:00:00.000Z by ops@host' },
        { letter: '1-3', reason: 'consumer group old has no committed offsets on t' },
      ],
    };
    // when it is reported, dry run or not
    for (const dryRun of [false, true]) {
      const report = redriveReport(outcome, dryRun);
      // then the status is 1, and each refusal is named with why
      expect(report.exitCode).toBe(1);
      expect(report.lines.slice(1, 3)).toEqual([
        '0-2  refused: already redriven at 2026-12-05T10:00:00.000Z by ops@host',
        '1-3  refused: consumer group old has no committed offsets on t',
      ]);
    }
    expect(redriveReport(outcome, true).lines.at(-1)).toBe(
      '1 would redrive, 2 refused (dry run: nothing written)',
    );
  });
});
