import fc from 'fast-check';
import type { QuarterHourEnergy } from './energy-book.ts';
import type { CarbonPublication, PricePublication } from '@gridstream/events';
import type { CostInput } from './site-cost-ledger.ts';
import { tariffVersionSchema } from '@gridstream/events';
import type { ExportPrice, ImportPrice, TariffVersion } from '@gridstream/events';

/** fast-check generators for the cost properties (imported by *.spec.ts only). */

export const QUARTER_HOUR_MS = 15 * 60_000;
export const PRICE_ZONE = 'DE-LU';
export const CARBON_ZONE = 'DE';

/** Three local days around a Berlin DST change (or none), as quarter-hour starts. */
export const WINDOWS = {
  fallBack: { fromMs: Date.parse('2026-10-23T22:00:00Z'), quarters: 3 * 96 + 4 },
  springForward: { fromMs: Date.parse('2026-03-27T23:00:00Z'), quarters: 3 * 96 - 4 },
  monthEnd: { fromMs: Date.parse('2026-10-30T23:00:00Z'), quarters: 3 * 96 + 4 },
} as const;
export type WindowName = keyof typeof WINDOWS;

/** Decimal text with up to `places` places from an integer of that many minor units. */
export function decimalText(units: number, places: number): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  const scale = 10 ** places;
  return `${sign}${Math.floor(abs / scale)}.${String(abs % scale).padStart(places, '0')}`;
}

const pricePerKWh = fc.integer({ min: 0, max: 6_000 }).map((n) => decimalText(n, 4));
const markupPerKWh = fc.integer({ min: -300, max: 3_000 }).map((n) => decimalText(n, 4));
const pricePerMWh = fc.integer({ min: -20_000, max: 60_000 }).map((n) => decimalText(n, 2));

const ALL_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Day rate from `boundary` (a quarter of the day, 1..95) to midnight, night rate before it. */
export function dayNightPeriods(boundary: number, night: string, day: string) {
  const wall = (q: number) =>
    `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
  return [
    {
      name: 'night',
      weekdays: [...ALL_WEEK],
      from: '00:00',
      to: wall(boundary),
      pricePerKWh: night,
    },
    { name: 'day', weekdays: [...ALL_WEEK], from: wall(boundary), to: '24:00', pricePerKWh: day },
  ];
}

const dynamicPrice = fc.record(
  {
    kind: fc.constant('dynamic' as const),
    biddingZone: fc.constant(PRICE_ZONE),
    markupPerKWh,
    floorPerKWh: fc.constantFrom('0.0000', '0.0500'),
    capPerKWh: fc.constantFrom('0.6000', '1.0000'),
  },
  { requiredKeys: ['kind', 'biddingZone', 'markupPerKWh'] },
);

const importPrice: fc.Arbitrary<ImportPrice> = fc.oneof(
  fc.record({ kind: fc.constant('fixed' as const), pricePerKWh }),
  fc
    .tuple(fc.integer({ min: 1, max: 95 }), pricePerKWh, pricePerKWh)
    .map(([boundary, night, day]) => ({
      kind: 'time_of_use' as const,
      seasons: [
        { name: 'all', from: '01-01', to: '12-31', periods: dayNightPeriods(boundary, night, day) },
      ],
    })),
  dynamicPrice,
);

const exportPrice: fc.Arbitrary<ExportPrice> = fc.oneof(
  fc.record({ kind: fc.constant('fixed' as const), pricePerKWh }),
  dynamicPrice,
);

/** A few instants that publications share, so ties on publishedAt happen. */
const publishedAt = fc
  .integer({ min: 0, max: 3 })
  .map((h) => new Date(Date.parse('2026-01-01T00:00:00Z') + h * 3_600_000).toISOString());

/** Tariff versions with unique ids; effective instants inside or before the window, some shared. */
export function tariffVersions(fromMs: number, quarters: number): fc.Arbitrary<TariffVersion[]> {
  return fc
    .array(
      fc.record({
        quarter: fc.integer({ min: -8, max: quarters }),
        publishedAt,
        vatRate: fc.constantFrom('0', '0.07', '0.19', '0.21'),
        dailyFee: fc.integer({ min: 0, max: 200 }).map((n) => decimalText(n, 2)),
        importPrice,
        exportPrice,
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((drafts) =>
      drafts.map((draft, index) =>
        tariffVersionSchema.parse({
          id: `v${index}`,
          effectiveFrom: new Date(
            // Versions share an effective instant now and then (the quarter is drawn coarse).
            fromMs + Math.round(draft.quarter / 16) * 16 * QUARTER_HOUR_MS,
          ).toISOString(),
          publishedAt: draft.publishedAt,
          currency: 'EUR',
          vatRate: draft.vatRate,
          dailyFee: draft.dailyFee,
          importPrice: draft.importPrice,
          exportPrice: draft.exportPrice,
        }),
      ),
    );
}

function pointStarts(fromMs: number, quarters: number, resolutionMinutes: 15 | 60) {
  const step = resolutionMinutes / 15;
  return fc
    .uniqueArray(fc.integer({ min: 0, max: Math.floor(quarters / step) }), {
      minLength: 1,
      maxLength: 12,
    })
    .map((indexes) =>
      indexes.map((i) => {
        const startMs = fromMs + i * step * QUARTER_HOUR_MS;
        return startMs - (startMs % (resolutionMinutes * 60_000));
      }),
    );
}

export function pricePublications(
  fromMs: number,
  quarters: number,
): fc.Arbitrary<PricePublication[]> {
  return fc
    .array(
      fc.constantFrom(15 as const, 60 as const).chain((resolutionMinutes) =>
        fc.record({
          resolutionMinutes: fc.constant(resolutionMinutes),
          publishedAt,
          starts: pointStarts(fromMs, quarters, resolutionMinutes),
          prices: fc.array(pricePerMWh, { minLength: 12, maxLength: 12 }),
        }),
      ),
      { maxLength: 6 },
    )
    .map((drafts) =>
      drafts.map((draft, index) => ({
        id: `p${index}`,
        biddingZone: PRICE_ZONE,
        publishedAt: draft.publishedAt,
        currency: 'EUR',
        resolutionMinutes: draft.resolutionMinutes,
        points: [...new Set(draft.starts)].map((startMs, i) => ({
          start: new Date(startMs).toISOString(),
          pricePerMWh: draft.prices[i] ?? '0.00',
        })),
      })),
    );
}

export function carbonPublications(
  fromMs: number,
  quarters: number,
): fc.Arbitrary<CarbonPublication[]> {
  return fc
    .array(
      fc.record({
        publishedAt,
        starts: pointStarts(fromMs, quarters, 60),
        grams: fc.array(fc.integer({ min: 0, max: 9_000 }), { minLength: 12, maxLength: 12 }),
      }),
      { maxLength: 3 },
    )
    .map((drafts) =>
      drafts.map((draft, index) => ({
        id: `c${index}`,
        zone: CARBON_ZONE,
        publishedAt: draft.publishedAt,
        resolutionMinutes: 60 as const,
        points: [...new Set(draft.starts)].map((startMs, i) => ({
          start: new Date(startMs).toISOString(),
          gramsPerKWh: decimalText(draft.grams[i] ?? 0, 1),
        })),
      })),
    );
}

/** Wh as the energy core makes them: whole, or fractions from power integration. */
const wh = fc.oneof(
  fc.integer({ min: 0, max: 3_000 }),
  fc.integer({ min: 0, max: 48_000 }).map((n) => n / 16),
  fc.double({ min: 0, max: 3_000, noNaN: true, noDefaultInfinity: true }),
);

/** Energy figures, some quarter hours corrected once or twice (distinct revisions). */
export function energyFigures(fromMs: number, quarters: number): fc.Arbitrary<QuarterHourEnergy[]> {
  return fc
    .uniqueArray(fc.integer({ min: 0, max: quarters - 1 }), { minLength: 1, maxLength: 30 })
    .chain((indexes) =>
      fc.tuple(
        ...indexes.map((i) =>
          fc
            .array(
              fc.record({
                importWh: wh,
                exportWh: wh,
                selfConsumedWh: fc.option(wh, { nil: null }),
              }),
              { minLength: 1, maxLength: 3 },
            )
            .map((revisions) =>
              revisions.map((figure, revision) => ({
                startMs: fromMs + i * QUARTER_HOUR_MS,
                revision: revision + 1,
                ...figure,
              })),
            ),
        ),
      ),
    )
    .map((perQuarter) => perQuarter.flat());
}

/** Every kind of input for one window, in a canonical (sorted) order. */
export interface CostScenario {
  readonly versions: TariffVersion[];
  readonly prices: PricePublication[];
  readonly carbon: CarbonPublication[];
  readonly energy: QuarterHourEnergy[];
}

export function costScenario(fromMs: number, quarters: number): fc.Arbitrary<CostScenario> {
  return fc.record({
    versions: tariffVersions(fromMs, quarters),
    prices: pricePublications(fromMs, quarters),
    carbon: carbonPublications(fromMs, quarters),
    energy: energyFigures(fromMs, quarters),
  });
}

/** The inputs of a scenario in the order time and revisions give them: the sorted fold. */
export function sortedInputs(scenario: CostScenario): CostInput[] {
  const byTime =
    <T>(key: (t: T) => number) =>
    (a: T, b: T) =>
      key(a) - key(b);
  return [
    ...[...scenario.versions]
      .sort(
        (a, b) =>
          Date.parse(a.effectiveFrom) - Date.parse(b.effectiveFrom) ||
          Date.parse(a.publishedAt) - Date.parse(b.publishedAt),
      )
      .map((version): CostInput => ({ kind: 'tariff_version', version })),
    ...[...scenario.prices]
      .sort(byTime((p) => Date.parse(p.publishedAt)))
      .map((publication): CostInput => ({ kind: 'price_publication', publication })),
    ...[...scenario.carbon]
      .sort(byTime((p) => Date.parse(p.publishedAt)))
      .map((publication): CostInput => ({ kind: 'carbon_publication', publication })),
    ...[...scenario.energy]
      .sort(byTime((e) => e.startMs * 10 + e.revision))
      .map((energy): CostInput => ({ kind: 'energy', energy })),
  ];
}

/** The same inputs in any order, some delivered twice. */
export function anyOrder(inputs: readonly CostInput[]): fc.Arbitrary<CostInput[]> {
  return fc
    .tuple(
      fc.shuffledSubarray([...inputs], { minLength: inputs.length, maxLength: inputs.length }),
      fc.array(fc.nat(Math.max(0, inputs.length - 1)), { maxLength: 5 }),
      fc.array(fc.nat(1_000), { maxLength: 5 }),
    )
    .map(([shuffled, repeats, positions]) => {
      const delivered = [...shuffled];
      repeats.forEach((index, i) => {
        const repeat = inputs[index];
        if (repeat !== undefined)
          delivered.splice((positions[i] ?? 0) % (delivered.length + 1), 0, repeat);
      });
      return delivered;
    });
}
