import { tariffVersionSchema } from '@gridstream/events';
import type { TariffVersion, TariffVersionInput, TouPeriod } from '@gridstream/events';

/** Shared test data for the cost specs (imported by *.spec.ts only). */

export const BERLIN = 'Europe/Berlin';

export const WORKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
export const WEEKEND = ['sat', 'sun'] as const;

/** Peak 07:00–20:00 on workdays, off-peak the rest of the week. */
export function workdayPeakPeriods(peak = '0.40', offPeak = '0.25'): TouPeriod[] {
  return [
    { name: 'off_peak', weekdays: [...WORKDAYS], from: '00:00', to: '07:00', pricePerKWh: offPeak },
    { name: 'peak', weekdays: [...WORKDAYS], from: '07:00', to: '20:00', pricePerKWh: peak },
    { name: 'off_peak', weekdays: [...WORKDAYS], from: '20:00', to: '24:00', pricePerKWh: offPeak },
    { name: 'off_peak', weekdays: [...WEEKEND], from: '00:00', to: '24:00', pricePerKWh: offPeak },
  ];
}

const base: TariffVersionInput = {
  id: 'v1',
  effectiveFrom: '2026-01-01T00:00:00Z',
  publishedAt: '2025-12-01T00:00:00Z',
  currency: 'EUR',
  vatRate: '0.19',
  dailyFee: '0.50',
  importPrice: { kind: 'fixed', pricePerKWh: '0.30' },
  exportPrice: { kind: 'fixed', pricePerKWh: '0.08' },
};

/** A valid tariff version, parsed (defaults filled in), with `overrides` on top. */
export function tariffVersion(overrides: Partial<TariffVersionInput> = {}): TariffVersion {
  return tariffVersionSchema.parse({ ...base, ...overrides });
}

/** The input form, for validation tests. */
export function tariffVersionInput(
  overrides: Partial<TariffVersionInput> = {},
): TariffVersionInput {
  return { ...base, ...overrides };
}

export const ms = (iso: string): number => Date.parse(iso);
