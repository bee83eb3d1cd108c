import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCarbonCsv } from './market-import-carbon-csv.ts';
import { utcText } from './market-import-csv.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('carbon intensity CSV', () => {
  it("reads Electricity Maps' export: zone from Zone Id, life-cycle by default, direct on request", () => {
    const text = fixture('market-import-carbon-electricitymaps.csv');
    const lca = parseCarbonCsv(text);
    expect(lca.problems).toEqual([]);
    expect(lca.layout).toBe('Electricity Maps');
    expect(lca.missingValues).toBe(1);
    expect(
      lca.points.map((p) => [p.zone, utcText(p.startMs), p.resolutionMinutes, p.gramsPerKWh]),
    ).toEqual([
      ['DE', '2025-03-30T22:00:00Z', 60, '380.25'],
      ['DE', '2025-03-30T23:00:00Z', 60, '371.9'],
      ['DE', '2025-03-31T00:00:00Z', 60, '366'],
      ['DE', '2025-03-31T02:00:00Z', 60, '355.5'],
    ]);
    const direct = parseCarbonCsv(text, { basis: 'direct' });
    expect(direct.points.map((p) => p.gramsPerKWh)).toEqual(['310.5', '305.1', '299', '290.75']);
  });

  it("reads the newer Electricity Maps header ('Carbon intensity … (Life cycle)', 'Zone id')", () => {
    const parsed = parseCarbonCsv(
      'Datetime (UTC),Country,Zone name,Zone id,Carbon intensity gCO₂eq/kWh (direct),Carbon intensity gCO₂eq/kWh (Life cycle),Carbon-free energy percentage (CFE%)\n' +
        '2024-01-01 00:00:00,Sweden,Sweden,SE-SE3,2.54,30.02,99.42\n' +
        '2024-01-01 01:00:00,Sweden,Sweden,SE-SE3,2.6,30.32,99.4\n',
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.points.map((p) => [p.zone, p.gramsPerKWh])).toEqual([
      ['SE-SE3', '30.02'],
      ['SE-SE3', '30.32'],
    ]);
  });

  it('reads start,gCO2e/kWh with --zone, 15-minute where a start is not on the hour', () => {
    expect(() => parseCarbonCsv('start,gCO2e/kWh\n2026-01-01T00:00:00Z,300\n')).toThrow(/--zone/);
    const parsed = parseCarbonCsv(
      'start,gCO2e/kWh\n2026-01-01T00:00:00Z,300\n2026-01-01T00:15:00Z,n/e\n2026-01-01T00:30:00Z,290.5\n',
      { zone: 'DE' },
    );
    expect(parsed.missingValues).toBe(1);
    expect(
      parsed.points.map((p) => [utcText(p.startMs), p.resolutionMinutes, p.gramsPerKWh]),
    ).toEqual([
      ['2026-01-01T00:00:00Z', 15, '300'],
      ['2026-01-01T00:30:00Z', 15, '290.5'],
    ]);
  });

  it('names the line and column of a negative, unreadable or repeated value', () => {
    const parsed = parseCarbonCsv(
      'start,gCO2e/kWh\n2026-01-01T00:00:00Z,-3\n2026-01-01T01:00:00Z,lots\nyesterday,5\n2026-01-01T02:00:00Z,5\n2026-01-01T02:00:00Z,6\n',
      { zone: 'DE' },
    );
    expect(parsed.problems.map((p) => [p.line, p.column])).toEqual([
      [2, 'gCO2e/kWh'],
      [3, 'gCO2e/kWh'],
      [4, 'start'],
      [6, 'start'],
    ]);
    expect(parsed.problems[0]?.message).toContain('not negative');
    expect(parsed.points.map((p) => p.line)).toEqual([5]);
  });

  it('refuses 5-minute data and a header of no known layout', () => {
    const fiveMinutes = parseCarbonCsv(
      'start,gCO2e/kWh\n2026-01-01T00:00:00Z,1\n2026-01-01T00:05:00Z,2\n',
      {
        zone: 'DE',
      },
    );
    expect(fiveMinutes.problems.map((p) => p.message)).toEqual([
      '2026-01-01T00:05:00Z is not on a multiple of 15 minutes (UTC)',
    ]);
    expect(() => parseCarbonCsv('when,how much\n1,2\n', { zone: 'DE' })).toThrow(
      /neither Electricity Maps/,
    );
  });
});
