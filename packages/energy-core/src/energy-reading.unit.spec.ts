import { describe, expect, it } from 'vitest';
import { sameEnergyReading, toEnergyReading, totalPowerW } from './energy-reading.ts';

const timeMs = Date.parse('2026-06-01T10:00:00Z');

describe('toEnergyReading', () => {
  it('keeps the energy fields and gathers the phase powers', () => {
    const reading = toEnergyReading(timeMs, {
      deviceId: 'd1',
      importWh: 10,
      voltageV: 230,
      phases: { l1: { powerW: 100 }, l3: { powerW: -40, voltageV: 231 } },
      quality: 'estimated',
    });
    expect(reading).toEqual({
      deviceId: 'd1',
      timeMs,
      powerW: undefined,
      importWh: 10,
      exportWh: undefined,
      phasePowersW: { l1: 100, l3: -40 },
      quality: 'estimated',
    });
  });
});

describe('totalPowerW', () => {
  const base = { deviceId: 'd1', timeMs, quality: 'good' } as const;

  it('prefers the reported total over the phases', () => {
    expect(totalPowerW({ ...base, powerW: 500, phasePowersW: { l1: 1, l2: 2, l3: 3 } })).toBe(500);
  });

  it('sums the phases when there is no total', () => {
    expect(totalPowerW({ ...base, phasePowersW: { l1: 100, l2: 200, l3: -50 } })).toBe(250);
  });

  it('is unknown without total or phases', () => {
    expect(totalPowerW({ ...base, importWh: 3, phasePowersW: {} })).toBeUndefined();
    expect(totalPowerW({ ...base, importWh: 3 })).toBeUndefined();
  });
});

describe('sameEnergyReading', () => {
  const base = { deviceId: 'd1', timeMs, quality: 'good', powerW: 5 } as const;

  it('treats equal energy content as the same reading', () => {
    expect(sameEnergyReading(base, { ...base })).toBe(true);
  });

  it('sees a different value or quality as a different reading', () => {
    expect(sameEnergyReading(base, { ...base, powerW: 6 })).toBe(false);
    expect(sameEnergyReading(base, { ...base, quality: 'bad' })).toBe(false);
    expect(sameEnergyReading(base, { ...base, phasePowersW: { l2: 5 } })).toBe(false);
    expect(
      sameEnergyReading({ ...base, phasePowersW: { l1: 5 } }, { ...base, phasePowersW: { l2: 5 } }),
    ).toBe(false);
  });
});
