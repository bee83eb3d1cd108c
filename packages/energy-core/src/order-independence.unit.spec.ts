import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketTotal } from './bucket-split.ts';
import type { DeviceBucketTotal } from './bucket-total.ts';
import { quarterHourStartsBetween } from './calendar-buckets.ts';
import { DeviceTimeline } from './device-timeline.ts';
import { mergeEnergyReadings } from './energy-reading.ts';
import type { EnergyReading } from './energy-reading.ts';
import { spanIntervals } from './counter-span.ts';
import type { EnergySettings } from './settings.ts';
import type { ReadingDelta } from './timeline-outcome.ts';

const t0 = Date.parse('2026-10-24T22:00:00Z');
const settings: EnergySettings = {
  maxIntegrationGapMs: 15 * 60_000,
  counterRollover: { wrapAtWh: 100_000, maxDeltaWh: 5_000 },
  maxCounterSpanMs: 60 * 60_000,
};
const roomy = { maxReadings: 100_000, maxAgeMs: 365 * 86_400_000 };

/** A reading of one of several shapes: counters, power, phases, or a mix. */
const readingFields = fc.oneof(
  fc.record({ importWh: fc.nat(100_000), exportWh: fc.nat(100_000) }),
  fc.record({ importWh: fc.nat(100_000), powerW: fc.integer({ min: -9_000, max: 9_000 }) }),
  fc.record({ powerW: fc.integer({ min: -9_000, max: 9_000 }) }),
  fc.record({
    phasePowersW: fc.record(
      {
        l1: fc.integer({ min: -3_000, max: 3_000 }),
        l2: fc.integer({ min: -3_000, max: 3_000 }),
        l3: fc.integer({ min: -3_000, max: 3_000 }),
      },
      { requiredKeys: ['l1'] },
    ),
  }),
);

/**
 * Readings per device at distinct instants (seconds over 3 hours, so some intervals are gaps);
 * some instants arrive as two or three parts (a gateway sending power and counter apart, or
 * the same field with different values), which are one reading, merged.
 */
const deviceReadings = (deviceId: string) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: 3 * 3_600 }), { minLength: 0, maxLength: 14 })
    .chain((seconds) =>
      fc.tuple(
        ...seconds.map((s) =>
          fc
            .array(
              fc.record({
                fields: readingFields,
                quality: fc.constantFrom('good', 'estimated', 'bad'),
              }),
              { minLength: 1, maxLength: 3 },
            )
            .map((parts) =>
              parts.map(({ fields, quality }): EnergyReading => ({
                deviceId,
                timeMs: t0 + s * 1000,
                quality,
                ...fields,
              })),
            ),
        ),
      ),
    )
    .map((instants) => instants.flat());

/** Readings of three devices, then a delivery: shuffled, with duplicates, and a restart point. */
const scenario = fc
  .tuple(deviceReadings('meter'), deviceReadings('pv'), deviceReadings('battery'))
  .map((perDevice) => perDevice.flat())
  .chain((distinct) =>
    fc.record({
      distinct: fc.constant(distinct),
      duplicates: fc.array(fc.nat(Math.max(0, distinct.length - 1)), { maxLength: 10 }),
      orderKeys: fc.array(fc.double({ noNaN: true }), { minLength: 60, maxLength: 60 }),
      restartFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      batchSize: fc.integer({ min: 1, max: 20 }),
    }),
  )
  .map(({ distinct, duplicates, orderKeys, restartFraction, batchSize }) => {
    const all = [...distinct, ...duplicates.flatMap((i) => (distinct[i] ? [distinct[i]] : []))];
    const delivery = all
      .map((reading, i) => ({ reading, key: orderKeys[i % orderKeys.length] ?? 0, i }))
      .sort((a, b) => a.key - b.key || a.i - b.i)
      .map((x) => x.reading);
    return {
      distinct,
      delivery,
      batchSize,
      restartAt: Math.floor(restartFraction * delivery.length),
    };
  });

function byDevice(readings: Iterable<EnergyReading>): Map<string, EnergyReading[]> {
  const groups = new Map<string, EnergyReading[]>();
  for (const r of readings) groups.set(r.deviceId, [...(groups.get(r.deviceId) ?? []), r]);
  return groups;
}

/** What the I/O side keeps in QuestDB: raw readings, reading deltas and quarter totals, upserted. */
interface Store {
  raw: Map<string, EnergyReading>;
  deltas: Map<string, ReadingDelta>;
  quarters: Map<string, DeviceBucketTotal>;
}

/**
 * As the processor does it: readings in batches; each insert stores its rows at once, and the
 * quarter hours the batch changed are totalled once at the end of the batch, then evicted.
 */
function process(delivery: readonly EnergyReading[], restartAt: number, batchSize: number): Store {
  const store: Store = { raw: new Map(), deltas: new Map(), quarters: new Map() };
  let timelines = new Map<string, DeviceTimeline>();
  let changed = new Map<DeviceTimeline, Set<number>>();
  const endBatch = () => {
    for (const [timeline, starts] of changed) {
      for (const q of starts)
        store.quarters.set(`${timeline.deviceId}@${q}`, timeline.quarterHour(q));
      timeline.evict();
    }
    changed = new Map();
  };
  delivery.forEach((reading, index) => {
    if (index % batchSize === 0 || index === restartAt) endBatch();
    if (index === restartAt) {
      // a restart: state is lost and rebuilt from what was stored
      const stored = byDevice(store.raw.values());
      timelines = new Map(
        [...stored].map(([id, rs]) => [
          id,
          DeviceTimeline.rebuild(id, rs, settings, roomy, 'whole'),
        ]),
      );
    }
    let timeline = timelines.get(reading.deviceId);
    if (!timeline) {
      timeline = new DeviceTimeline(reading.deviceId, settings, roomy);
      timelines.set(reading.deviceId, timeline);
    }
    const outcome = timeline.insert(reading);
    if (outcome.status === 'before_horizon') throw new Error('no horizon without eviction');
    // the processor writes each changed row whole: the merged reading with its delta
    for (const d of outcome.readingDeltas) {
      store.raw.set(`${d.reading.deviceId}@${d.reading.timeMs}`, d.reading);
      store.deltas.set(`${d.reading.deviceId}@${d.reading.timeMs}`, d);
    }
    const starts = changed.get(timeline) ?? new Set<number>();
    for (const q of outcome.quarterHourStartsMs) starts.add(q);
    changed.set(timeline, starts);
  });
  endBatch();
  return store;
}

/**
 * The reference, computed directly: the parts of each instant merged into one reading, then each
 * device's readings once, in time order.
 */
function reference(parts: readonly EnergyReading[]) {
  const deltas = new Map<string, ReadingDelta>();
  const quarters = new Map<string, DeviceBucketTotal>();
  for (const [deviceId, readings] of byDevice(parts)) {
    const byInstant = Map.groupBy(readings, (r) => r.timeMs);
    const sorted = [...byInstant.values()]
      .map((same) => same.reduce(mergeEnergyReadings))
      .sort((a, b) => a.timeMs - b.timeMs);
    const intervals = spanIntervals(sorted, settings);
    sorted.forEach((r, i) =>
      deltas.set(`${deviceId}@${r.timeMs}`, { reading: r, interval: intervals[i - 1] ?? null }),
    );
    const first = sorted[0]?.timeMs ?? 0;
    const last = sorted.at(-1)?.timeMs ?? 0;
    for (const q of quarterHourStartsBetween(first, last)) {
      quarters.set(
        `${deviceId}@${q}`,
        bucketTotal(deviceId, 'quarter_hour', q, q + 900_000, intervals),
      );
    }
  }
  return { deltas, quarters };
}

const sortedEntries = <T>(map: Map<string, T>) => [...map].sort(([a], [b]) => (a < b ? -1 : 1));

describe('order independence', () => {
  it('any order, duplication, same-instant parts and restart point give the totals of the merged readings in time order', () => {
    fc.assert(
      fc.property(scenario, ({ distinct, delivery, restartAt, batchSize }) => {
        // given a set of readings delivered in any order, with duplicates, and a restart
        // when they are processed as the I/O side would
        const store = process(delivery, restartAt, batchSize);
        // then the stored deltas and 15-minute totals are exactly the reference's. Exact, no
        // tolerance: every total is recomputed from the intervals in time order, so the
        // floating-point sum does not depend on the order of arrival.
        const expected = reference(distinct);
        expect(sortedEntries(store.deltas)).toEqual(sortedEntries(expected.deltas));
        expect(sortedEntries(store.quarters)).toEqual(sortedEntries(expected.quarters));
      }),
      { numRuns: 300 },
    );
  });
});
