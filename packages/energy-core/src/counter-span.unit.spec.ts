import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterDeltaWh } from './counter-delta.ts';
import { affectedRange, appendedInterval, spanIntervals } from './counter-span.ts';
import { DeviceTimeline } from './device-timeline.ts';
import { mergeEnergyReadings } from './energy-reading.ts';
import type { EnergyReading } from './energy-reading.ts';
import type { IntervalEnergy } from './interval-energy.ts';
import type { EnergySettings } from './settings.ts';

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const t0 = Date.parse('2026-06-01T10:00:00Z');
const settings: EnergySettings = {
  maxIntegrationGapMs: 15 * MINUTE_MS,
  counterRollover: { wrapAtWh: 100_000, maxDeltaWh: 1_000 },
  maxCounterSpanMs: HOUR_MS,
};
const roomy = { maxReadings: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER };

const at = (seconds: number, fields: Partial<EnergyReading> = {}): EnergyReading => ({
  deviceId: 'd1',
  timeMs: t0 + seconds * SECOND_MS,
  quality: 'good',
  ...fields,
});

const byTime = (readings: readonly EnergyReading[]) =>
  [...readings].sort((a, b) => a.timeMs - b.timeMs);

const importsOf = (intervals: readonly IntervalEnergy[]) => intervals.map((i) => i.importWh);

/** The energy of the intervals inside [fromMs, toMs], per direction. */
function spanTotal(intervals: readonly IntervalEnergy[], fromMs: number, toMs: number) {
  let importWh = 0;
  let exportWh = 0;
  for (const interval of intervals) {
    if (interval.startMs < fromMs || interval.endMs > toMs) continue;
    importWh += interval.importWh;
    exportWh += interval.exportWh;
  }
  return { importWh, exportWh };
}

/** Equal up to floating-point rounding of a sum of shares. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
}

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

describe('counter spans', () => {
  it('books the counter delta between two counter readings, however many power readings lie between', () => {
    // given a counter that rose 60 Wh in a minute, and five power-only readings between
    // (issue 12: 16.7 Wh were stored, the integral of the power)
    const readings = [
      at(0, { importWh: 1_000, powerW: 1_000 }),
      ...[10, 20, 30, 40, 50].map((s) => at(s, { powerW: 1_000 })),
      at(60, { importWh: 1_060, powerW: 1_000 }),
    ];
    // when the intervals are computed
    const intervals = spanIntervals(readings, settings);
    // then they add up to the delta, split evenly (the power is constant), all from the counter
    expect(importsOf(intervals)).toEqual(Array.from({ length: 6 }, () => 10));
    expect(intervals.every((i) => i.method === 'counter')).toBe(true);
  });

  it('splits the delta in proportion to the power each interval integrates', () => {
    // given 0 -> 20 s at 1000 W, 20 -> 40 s at 3000 W (trapezoid 1000/2000 W, 2000/3000 W)
    const readings = [
      at(0, { importWh: 0, powerW: 1_000 }),
      at(20, { powerW: 3_000 }),
      at(40, { importWh: 90, powerW: 3_000 }),
    ];
    // then 90 Wh go 2:3 as the trapezoids (2000 W·20 s : 3000 W·20 s... 40 000 : 60 000)
    expect(importsOf(spanIntervals(readings, settings))).toEqual([36, 54]);
  });

  it('splits by time when power gives nothing in that direction, or is absent', () => {
    // given power that says export while the import counter rose, and a span without power
    const exporting = [
      at(0, { importWh: 0, powerW: -500 }),
      at(30, { powerW: -500 }),
      at(40, { importWh: 40, powerW: -500 }),
    ];
    const withoutPower = [
      at(0, { importWh: 0 }),
      at(30, { exportWh: 7 }),
      at(40, { importWh: 40 }),
    ];
    // then the delta is split 30 : 10 by time
    expect(importsOf(spanIntervals(exporting, settings))).toEqual([30, 10]);
    expect(importsOf(spanIntervals(withoutPower, settings))).toEqual([30, 10]);
  });

  it('weights a counter-only reading with the power around it (a counter 5 s after the power)', () => {
    // given power readings at 0, 10, 20 s and counter-only readings at 5 and 25 s
    const readings = [
      at(0, { powerW: 1_000 }),
      at(5, { importWh: 100 }),
      at(10, { powerW: 1_000 }),
      at(20, { powerW: 1_000 }),
      at(25, { importWh: 120 }),
    ];
    const intervals = spanIntervals(readings, settings);
    // then the 20 Wh between the counters follow the power, which is constant (the counter
    // readings take the power next to them): 5, 10 and 5 s. The 5 s before the first counter
    // have no counter on their left and no power on their right: unknown, as before.
    expect(intervals.map((i) => [i.method, i.importWh])).toEqual([
      ['none', 0],
      ['counter', 5],
      ['counter', 10],
      ['counter', 5],
    ]);
  });

  it('integrates power as before where a counter is on one side only', () => {
    const readings = [at(0, { importWh: 0, powerW: 3_600 }), at(10, { powerW: 3_600 })];
    expect(spanIntervals(readings, settings)).toMatchObject([
      { method: 'power', importWh: 10, flags: [] },
    ]);
  });

  it('does not use a span longer than the limit with readings between: power, as before', () => {
    const readings = [
      at(0, { importWh: 0, powerW: 3_600 }),
      at(1_800, { powerW: 3_600 }),
      at(3_601, { importWh: 5_000, powerW: 3_600 }),
    ];
    const intervals = spanIntervals(readings, settings);
    expect(intervals.map((i) => i.method)).toEqual(['none', 'none']);
    expect(intervals.map((i) => i.flags)).toEqual([['gap'], ['gap']]);
  });

  it('keeps a counter interval of any length when nothing lies between (flagged gap)', () => {
    const readings = [at(0, { importWh: 0 }), at(5 * 3_600, { importWh: 5_000 })];
    expect(spanIntervals(readings, settings)).toMatchObject([
      { method: 'counter', importWh: 5_000, flags: ['gap'] },
    ]);
  });

  it('applies reset and rollover to the span, flagged on the interval ending at the counter', () => {
    const reset = [
      at(0, { importWh: 50_000 }),
      at(20, { powerW: 100 }),
      at(40, { importWh: 30, powerW: 100 }),
    ];
    const rollover = [
      at(0, { importWh: 99_900 }),
      at(20, { powerW: 100 }),
      at(40, { importWh: 100, powerW: 100 }),
    ];
    // a reset books the new value, 30 Wh, split by the (constant) power
    expect(spanIntervals(reset, settings).map((i) => [i.importWh, i.flags])).toEqual([
      [15, []],
      [15, ['import_reset']],
    ]);
    const wrapped = spanIntervals(rollover, settings);
    expect(wrapped.map((i) => i.flags)).toEqual([[], ['import_rollover']]);
    expectClose(defined(wrapped[0]).importWh + defined(wrapped[1]).importWh, 200);
  });

  it('splits each direction by its own counters: an export counter spans an import-only reading', () => {
    const readings = [
      at(0, { importWh: 0, exportWh: 0, powerW: -1_000 }),
      at(30, { importWh: 0, powerW: -1_000 }),
      at(60, { importWh: 0, exportWh: 60, powerW: -1_000 }),
    ];
    expect(spanIntervals(readings, settings).map((i) => [i.importWh, i.exportWh])).toEqual([
      [0, 30],
      [0, 30],
    ]);
  });
});

describe('same-instant readings', () => {
  it('are one reading with the fields of both, in either order', () => {
    const power = at(60, { powerW: 800, quality: 'estimated' });
    const counter = at(60, { importWh: 1_060 });
    expect(mergeEnergyReadings(power, counter)).toEqual(mergeEnergyReadings(counter, power));
    expect(mergeEnergyReadings(power, counter)).toMatchObject({
      powerW: 800,
      importWh: 1_060,
      quality: 'estimated',
    });
  });

  it('keep the larger value of a field both carry, whatever the order (a property)', () => {
    const part = fc.record(
      {
        powerW: fc.integer({ min: -5_000, max: 5_000 }),
        importWh: fc.nat(10_000),
        exportWh: fc.nat(10_000),
        phasePowersW: fc.record(
          { l1: fc.integer({ min: -100, max: 100 }), l2: fc.integer({ min: -100, max: 100 }) },
          { requiredKeys: [] },
        ),
        quality: fc.constantFrom('good' as const, 'estimated' as const, 'bad' as const),
      },
      { requiredKeys: ['quality'] },
    );
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (parts, picks) => {
          const readings = parts.map((p) => at(60, p));
          // a shuffle with duplicates of the same parts
          const delivered = [
            ...readings,
            ...picks.map((i) => defined(readings[i % readings.length])),
          ]
            .map((r, i) => ({
              r,
              key: (i * 7919 + (picks[i % Math.max(1, picks.length)] ?? 0)) % 101,
            }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.r);
          const merged = readings.reduce(mergeEnergyReadings);
          expect(delivered.reduce(mergeEnergyReadings)).toEqual(merged);
          const max = (values: (number | undefined)[]) => {
            const present = values.filter((v) => v !== undefined);
            return present.length === 0 ? undefined : Math.max(...present);
          };
          expect(merged.importWh).toBe(max(parts.map((p) => p.importWh)));
          expect(merged.powerW).toBe(max(parts.map((p) => p.powerW)));
          // and a timeline given the parts in that order holds the merged reading
          const timeline = new DeviceTimeline('d1', settings, roomy);
          for (const r of delivered) timeline.insert(r);
          expect(timeline.readings()).toEqual([merged]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** A counter reading: counter-only, or with power (combined). */
const counterReading = fc.record(
  {
    powerW: fc.integer({ min: -4_000, max: 4_000 }),
    exportWh: fc.nat(2_000),
  },
  { requiredKeys: [] },
);

const powerOnly = fc.oneof(
  fc.record({ powerW: fc.integer({ min: -4_000, max: 4_000 }) }),
  fc.record({
    phasePowersW: fc.record({ l1: fc.integer({ min: -2_000, max: 2_000 }) }),
  }),
);

describe('counter spans, as properties', () => {
  it('(a) inserting power-only readings between counter readings never changes the span total', () => {
    fc.assert(
      fc.property(
        // counter readings up to the span limit apart, with increasing counters
        fc.array(
          fc.record({
            afterS: fc.integer({ min: 1, max: 3_600 }),
            deltaWh: fc.nat(5_000),
            fields: counterReading,
          }),
          { minLength: 2, maxLength: 8 },
        ),
        fc.array(
          fc.record({ atFraction: fc.double({ min: 0, max: 1, noNaN: true }), fields: powerOnly }),
          {
            maxLength: 30,
          },
        ),
        (counters, inserted) => {
          let seconds = 0;
          let importWh = 1_000;
          const anchors = counters.map(({ afterS, deltaWh, fields }) => {
            seconds += afterS;
            importWh += deltaWh;
            return at(seconds, { ...fields, importWh });
          });
          const first = defined(anchors[0]);
          const last = defined(anchors.at(-1));
          const taken = new Set(anchors.map((a) => a.timeMs));
          const between = inserted.flatMap(({ atFraction, fields }) => {
            const timeMs = Math.round(first.timeMs + atFraction * (last.timeMs - first.timeMs));
            if (taken.has(timeMs)) return [];
            taken.add(timeMs);
            return [{ ...at(0, fields), timeMs }];
          });
          const without = spanTotal(spanIntervals(anchors, settings), first.timeMs, last.timeMs);
          const withPower = spanTotal(
            spanIntervals(byTime([...anchors, ...between]), settings),
            first.timeMs,
            last.timeMs,
          );
          expectClose(withPower.importWh, without.importWh);
          expectClose(withPower.importWh, defined(last.importWh) - defined(first.importWh));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('(b) any interleaving: energy between two counter readings equals their delta (resets, rollover)', () => {
    const reading = fc.oneof(
      fc.record({ importWh: fc.nat(99_999), powerW: fc.integer({ min: -4_000, max: 4_000 }) }),
      fc.record({ importWh: fc.nat(99_999) }),
      fc.record({ exportWh: fc.nat(99_999) }),
      fc.record({ importWh: fc.nat(99_999), exportWh: fc.nat(99_999) }),
      powerOnly,
      fc.record({ importWh: fc.integer({ min: 99_500, max: 99_999 }) }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 3 * 3_600 }), { minLength: 2, maxLength: 25 }),
        fc.array(reading, { minLength: 25, maxLength: 25 }),
        (seconds, fields) => {
          const readings = byTime(seconds.map((s, i) => at(s, fields[i])));
          const intervals = spanIntervals(readings, settings);
          for (const direction of ['import', 'export'] as const) {
            const key = direction === 'import' ? 'importWh' : 'exportWh';
            const anchors = readings.filter((r) => r[key] !== undefined);
            for (let i = 1; i < anchors.length; i++) {
              const a = defined(anchors[i - 1]);
              const b = defined(anchors[i]);
              const inBetween = readings.filter((r) => r.timeMs > a.timeMs && r.timeMs < b.timeMs);
              if (inBetween.length > 0 && b.timeMs - a.timeMs > settings.maxCounterSpanMs) continue;
              const delta = counterDeltaWh(
                defined(a[key]),
                defined(b[key]),
                settings.counterRollover,
              ).deltaWh;
              expectClose(spanTotal(intervals, a.timeMs, b.timeMs)[key], delta);
            }
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('(c) a bounded timeline, fed mixed readings mostly in order, gives the quarter hours of an unbounded one', () => {
    const reading = fc.oneof(
      fc.record({ importWh: fc.nat(50), powerW: fc.integer({ min: -4_000, max: 4_000 }) }),
      fc.record({ importWh: fc.nat(50) }),
      fc.record({ exportWh: fc.nat(50) }),
      powerOnly,
    );
    const scenario = fc.record({
      minutes: fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 2, maxLength: 60 }),
      fields: fc.array(reading, { minLength: 60, maxLength: 60 }),
      swaps: fc.array(fc.nat(), { maxLength: 10 }),
      maxReadings: fc.integer({ min: 2, max: 6 }),
      maxAgeMinutes: fc.integer({ min: 5, max: 120 }),
    });
    fc.assert(
      fc.property(scenario, ({ minutes, fields, swaps, maxReadings, maxAgeMinutes }) => {
        const order = [...minutes].sort((a, b) => a - b);
        for (const swap of swaps) {
          const i = swap % (order.length - 1);
          [order[i], order[i + 1]] = [order[i + 1] ?? 0, order[i] ?? 0];
        }
        const bounded = new DeviceTimeline('d1', settings, {
          maxReadings,
          maxAgeMs: maxAgeMinutes * MINUTE_MS,
        });
        const unbounded = new DeviceTimeline('d1', settings, roomy);
        for (const [n, minute] of order.entries()) {
          // counters grow with time, so a swapped pair is a reset
          const f: Partial<EnergyReading> = fields[n] ?? {};
          const reading = at(minute * 60, {
            ...f,
            ...(f.importWh === undefined ? {} : { importWh: minute * 100 + f.importWh }),
            ...(f.exportWh === undefined ? {} : { exportWh: minute * 100 + f.exportWh }),
          });
          const outcome = bounded.insert(reading);
          // a refused reading goes the slow way (from storage) in the processor; skip it here
          if (outcome.status === 'before_horizon') continue;
          const fromBounded = outcome.quarterHourStartsMs.map((q) => bounded.quarterHour(q));
          bounded.evict();
          const fromUnbounded = unbounded.insert(reading);
          if (fromUnbounded.status === 'before_horizon') throw new Error('unbounded refused');
          // the same rows, and the same quarter hours, bit for bit
          expect(outcome.readingDeltas).toEqual(fromUnbounded.readingDeltas);
          expect(fromBounded).toEqual(
            fromUnbounded.quarterHourStartsMs.map((q) => unbounded.quarterHour(q)),
          );
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('appendedInterval', () => {
  it('is the interval spanIntervals gives the newest reading whenever affectedRange reaches back only to the one before', () => {
    const reading = fc.record(
      {
        powerW: fc.integer({ min: -4_000, max: 4_000 }),
        importWh: fc.oneof(fc.nat(200_000), fc.constant(99_990)),
        exportWh: fc.nat(200_000),
        phasePowersW: fc.record({ l1: fc.integer({ min: -2_000, max: 2_000 }) }),
        quality: fc.constantFrom('good' as const, 'estimated' as const),
      },
      { requiredKeys: ['quality'] },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1_500 }), reading), {
          minLength: 2,
          maxLength: 12,
        }),
        (steps) => {
          let seconds = 0;
          const readings = steps.map(([gap, fields]) => at((seconds += gap), fields));
          const last = readings.length - 1;
          const [lo, hi] = affectedRange(readings, last, settings);
          fc.pre(lo === last - 1 && hi === last);
          expect(appendedInterval(readings, last, settings)).toEqual(
            spanIntervals(readings, settings, last, last)[0],
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
