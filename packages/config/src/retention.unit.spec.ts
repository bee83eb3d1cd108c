import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './index.ts';
import {
  DEFAULT_QUESTDB_TTL,
  DEFAULT_TOPIC_RETENTION_MS,
  RETENTION_SETTINGS,
  questDbRetention,
  topicRetention,
} from './retention.ts';

const DAY_MS = 86_400_000;
const text = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('retention settings', () => {
  it('keep the system of record for ever and bound only the gateway and dlq topics', () => {
    // given no retention variable set
    const retention = topicRetention(loadConfig({}));
    // then every topic but gateway and dlq keeps everything
    expect(retention).toEqual({
      readings: -1,
      devices: -1,
      commands: -1,
      alerts: -1,
      energy: -1,
      market: -1,
      gateway: 7 * DAY_MS,
      dlq: 30 * DAY_MS,
    });
    // and QuestDB keeps 90 days of raw readings, the energy figures and events for ever
    expect(questDbRetention(loadConfig({}))).toEqual({
      readings: { count: 90, unit: 'DAYS' },
      energy: { count: 0, unit: 'DAYS' },
      events: { count: 0, unit: 'MONTHS' },
    });
  });

  it('take their overrides from the environment', () => {
    const config = loadConfig({
      GS_RETENTION_DLQ_TOPIC_MS: '-1',
      GS_RETENTION_READINGS_TOPIC_MS: String(365 * DAY_MS),
      GS_RETENTION_READINGS_TABLE_DAYS: '0',
      GS_RETENTION_EVENTS_TABLE_MONTHS: '24',
    });
    expect(topicRetention(config)).toMatchObject({ dlq: -1, readings: 365 * DAY_MS });
    expect(questDbRetention(config)).toMatchObject({
      readings: { count: 0 },
      events: { count: 24, unit: 'MONTHS' },
    });
  });

  it('refuse a retention Kafka would take as "delete now" or QuestDB cannot keep', () => {
    // 0 ms and anything under an hour would empty a topic; -2 means nothing
    for (const value of ['0', '1000', '-2', 'forever'])
      expect(() => loadConfig({ GS_RETENTION_GATEWAY_TOPIC_MS: value })).toThrow(
        /GS_RETENTION_GATEWAY_TOPIC_MS/,
      );
    expect(() => loadConfig({ GS_RETENTION_READINGS_TABLE_DAYS: '-1' })).toThrow(
      /GS_RETENTION_READINGS_TABLE_DAYS/,
    );
    expect(() => loadConfig({ GS_RETENTION_EVENTS_TABLE_MONTHS: '1.5' })).toThrow(
      /GS_RETENTION_EVENTS_TABLE_MONTHS/,
    );
  });

  it('refuse energy figures kept for less time than the raw readings they are made from', () => {
    // given the figures kept 30 days and the readings the default 90
    // then loading refuses it, naming both and what would do
    expect(() => loadConfig({ GS_RETENTION_ENERGY_TABLES_DAYS: '30' })).toThrow(
      'GS_RETENTION_ENERGY_TABLES_DAYS: 30 days would keep the energy figures for less time than ' +
        'the raw readings they are made from (GS_RETENTION_READINGS_TABLE_DAYS: 90 days); set it ' +
        'to 0 (for ever) or to 90 or more, or shorten GS_RETENTION_READINGS_TABLE_DAYS',
    );
    // and readings kept for ever leave the figures only "for ever" too
    expect(() =>
      loadConfig({
        GS_RETENTION_READINGS_TABLE_DAYS: '0',
        GS_RETENTION_ENERGY_TABLES_DAYS: '3650',
      }),
    ).toThrow(
      /3650 days would keep .* \(GS_RETENTION_READINGS_TABLE_DAYS: for ever \(0\)\); set it to 0 \(for ever\), or/,
    );
    // and as long, longer or for ever is fine
    for (const energy of ['90', '400', '0'])
      expect(
        questDbRetention(loadConfig({ GS_RETENTION_ENERGY_TABLES_DAYS: energy })).energy.count,
      ).toBe(Number(energy));
    expect(
      questDbRetention(
        loadConfig({ GS_RETENTION_READINGS_TABLE_DAYS: '0', GS_RETENTION_ENERGY_TABLES_DAYS: '0' }),
      ).readings.count,
    ).toBe(0);
  });
});

describe('docs/data-lifecycle.md and the README', () => {
  const lifecycle = text('../../../docs/data-lifecycle.md');
  const readme = text('../../../README.md');
  /** The row of a markdown table that names the variable. */
  const rowOf = (doc: string, variable: string) =>
    doc.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${variable}\``));

  it('name every retention variable', () => {
    for (const variable of Object.keys(RETENTION_SETTINGS)) {
      expect(rowOf(lifecycle, variable), `${variable} in docs/data-lifecycle.md`).toBeDefined();
      expect(rowOf(readme, variable), `${variable} in README.md`).toBeDefined();
    }
  });

  it("give each topic's and table's default as the code has it", () => {
    const kept = (row: string | undefined, days: number) => {
      expect(row).toMatch(days === 0 ? /\| for ever / : new RegExp(`\\| ${days} days `));
    };
    for (const [role, ms] of Object.entries(DEFAULT_TOPIC_RETENTION_MS))
      kept(
        rowOf(lifecycle, `GS_RETENTION_${role.toUpperCase()}_TOPIC_MS`),
        ms < 0 ? 0 : ms / DAY_MS,
      );
    kept(rowOf(lifecycle, 'GS_RETENTION_READINGS_TABLE_DAYS'), DEFAULT_QUESTDB_TTL.readingsDays);
    kept(rowOf(lifecycle, 'GS_RETENTION_ENERGY_TABLES_DAYS'), DEFAULT_QUESTDB_TTL.energyDays);
    kept(rowOf(lifecycle, 'GS_RETENTION_EVENTS_TABLE_MONTHS'), DEFAULT_QUESTDB_TTL.eventsMonths);
  });
});
