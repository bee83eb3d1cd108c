import { describe, expect, it } from 'vitest';
import type { EnergyReading } from './energy-reading.ts';
import { intervalEnergy } from './interval-energy.ts';
import type { EnergySettings } from './settings.ts';

const MINUTE_MS = 60_000;
const t0 = Date.parse('2026-06-01T10:00:00Z');
const settings: EnergySettings = {
  maxIntegrationGapMs: 15 * MINUTE_MS,
  counterRollover: { wrapAtWh: 1_000_000, maxDeltaWh: 10_000 },
  maxCounterSpanMs: 60 * MINUTE_MS,
};

const at = (minutes: number, fields: Partial<EnergyReading> = {}): EnergyReading => ({
  deviceId: 'd1',
  timeMs: t0 + minutes * MINUTE_MS,
  quality: 'good',
  ...fields,
});

describe('intervalEnergy', () => {
  it('prefers counters over power when both readings carry them', () => {
    // given power says 1000 W but the counters advanced by 300 Wh in 10 minutes
    const energy = intervalEnergy(
      at(0, { powerW: 1_000, importWh: 10_000, exportWh: 50 }),
      at(10, { powerW: 1_000, importWh: 10_300, exportWh: 50 }),
      settings,
    );
    // then the counters are the truth
    expect(energy).toEqual({
      startMs: t0,
      endMs: t0 + 10 * MINUTE_MS,
      importWh: 300,
      exportWh: 0,
      method: 'counter',
      flags: [],
      quality: 'good',
    });
  });

  it('integrates power when a reading lacks the counters', () => {
    const energy = intervalEnergy(
      at(0, { powerW: 600, importWh: 10_000 }),
      at(10, { powerW: 1_200 }),
      settings,
    );
    // (600 + 1200) / 2 W × 1/6 h
    expect(energy).toMatchObject({ importWh: 150, exportWh: 0, method: 'power', flags: [] });
  });

  it('sums the phases when there is no total power', () => {
    const energy = intervalEnergy(
      at(0, { phasePowersW: { l1: 1_000, l2: 1_000, l3: 1_000 } }),
      at(12, { phasePowersW: { l1: 2_000, l2: -500, l3: 1_500 } }),
      settings,
    );
    // 3000 W to 3000 W for 12 minutes
    expect(energy).toMatchObject({ importWh: 600, exportWh: 0, method: 'power' });
  });

  it('integrates each phase both readings report, by direction, whatever gave the total', () => {
    const energy = intervalEnergy(
      at(0, { importWh: 10_000, phasePowersW: { l1: 1_000, l2: 600, l3: -300 } }),
      at(12, { importWh: 10_500, phasePowersW: { l1: 2_000, l2: -600 } }),
      settings,
    );
    // the total comes from the counter; L1 1000 -> 2000 W and L2 600 -> -600 W over 12 minutes
    // (L2 crosses zero half way); L3 is not in the second reading, so it is not known
    expect(energy).toMatchObject({ importWh: 500, method: 'counter' });
    expect(energy.phases).toEqual({
      l1: { importWh: 300, exportWh: 0 },
      l2: { importWh: 30, exportWh: 30 },
    });
  });

  it('has no phase figures across a gap', () => {
    const energy = intervalEnergy(
      at(0, { importWh: 1, phasePowersW: { l1: 1_000 } }),
      at(20, { importWh: 2, phasePowersW: { l1: 1_000 } }),
      settings,
    );
    expect(energy.phases).toBeUndefined();
  });

  it('does not integrate power across a gap longer than the limit, and flags it', () => {
    const energy = intervalEnergy(at(0, { powerW: 2_000 }), at(16, { powerW: 2_000 }), settings);
    expect(energy).toMatchObject({ importWh: 0, exportWh: 0, method: 'none', flags: ['gap'] });
  });

  it('integrates power across a gap exactly at the limit', () => {
    const energy = intervalEnergy(at(0, { powerW: 2_000 }), at(15, { powerW: 2_000 }), settings);
    expect(energy).toMatchObject({ importWh: 500, method: 'power', flags: [] });
  });

  it('keeps counted energy across a long gap but flags the gap', () => {
    const energy = intervalEnergy(at(0, { importWh: 100 }), at(120, { importWh: 4_100 }), settings);
    expect(energy).toMatchObject({ importWh: 4_000, method: 'counter', flags: ['gap'] });
  });

  it('flags a counter reset and a rollover per direction', () => {
    const energy = intervalEnergy(
      at(0, { importWh: 52_000, exportWh: 999_950 }),
      at(5, { importWh: 20, exportWh: 30 }),
      settings,
    );
    expect(energy).toMatchObject({
      importWh: 20,
      exportWh: 80,
      flags: ['export_rollover', 'import_reset'],
    });
  });

  it('reads a battery: charging is import, discharging is export', () => {
    // given a battery that charges at 2000 W, then discharges at 2000 W (power only)
    const charge = intervalEnergy(at(0, { powerW: 2_000 }), at(6, { powerW: 2_000 }), settings);
    const discharge = intervalEnergy(
      at(6, { powerW: -2_000 }),
      at(12, { powerW: -2_000 }),
      settings,
    );
    // then 200 Wh in (charge), then 200 Wh out (discharge)
    expect([charge.importWh, charge.exportWh]).toEqual([200, 0]);
    expect([discharge.importWh, discharge.exportWh]).toEqual([0, 200]);
  });

  it('carries the worst quality of the two readings', () => {
    const energy = intervalEnergy(
      at(0, { powerW: 100, quality: 'estimated' }),
      at(5, { powerW: 100, quality: 'good' }),
      settings,
    );
    expect(energy.quality).toBe('estimated');
    const bad = intervalEnergy(
      at(0, { powerW: 100, quality: 'bad' }),
      at(5, { powerW: 100, quality: 'estimated' }),
      settings,
    );
    expect(bad.quality).toBe('bad');
  });

  it('reports no data when a reading has neither counters nor power', () => {
    const energy = intervalEnergy(at(0, { powerW: 100 }), at(5, {}), settings);
    expect(energy).toMatchObject({ method: 'none', flags: ['no_data'], importWh: 0 });
  });

  it('refuses readings out of time order', () => {
    expect(() => intervalEnergy(at(5, { powerW: 1 }), at(5, { powerW: 1 }), settings)).toThrow(
      RangeError,
    );
  });
});
