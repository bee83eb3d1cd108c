import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketTotal } from './bucket-split.ts';
import type { DeviceBucketTotal } from './bucket-total.ts';
import { quarterHourStartMs, quarterHourStartsBetween } from './calendar-buckets.ts';
import { DeviceTimeline } from './device-timeline.ts';
import { mergeEnergyReadings } from './energy-reading.ts';
import type { EnergyReading } from './energy-reading.ts';
import { spanIntervals } from './counter-span.ts';
import type { EnergySettings } from './settings.ts';
import type { InsertOutcome, ReadingDelta, TimelineLimits } from './timeline-outcome.ts';

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
 * The processor's temporary timeline for a late reading (`#insertLate` in
 * processors/energy/src/timelines.ts): the stored readings of the window it reads.
 */
function lateTimeline(stored: readonly EnergyReading[], reading: EnergyReading): DeviceTimeline {
  const limitMs = settings.maxCounterSpanMs;
  const times = stored.map((r) => r.timeMs).sort((a, b) => a - b);
  const lastBefore = (ms: number) => times.filter((t) => t < ms).at(-1);
  const firstFrom = (ms: number) => times.find((t) => t >= ms);
  const predecessor = lastBefore(reading.timeMs);
  const successor = firstFrom(reading.timeMs + 1);
  const firstQuarterMs = quarterHourStartMs(
    Math.min(predecessor ?? reading.timeMs, reading.timeMs - limitMs),
  );
  const before = lastBefore(firstQuarterMs);
  const fromMs =
    before === undefined ? firstQuarterMs - limitMs : Math.min(before, firstQuarterMs - limitMs);
  const lastQuarterEndMs =
    quarterHourStartMs(Math.max(successor ?? reading.timeMs, reading.timeMs + limitMs)) + 900_000;
  const after = firstFrom(lastQuarterEndMs + limitMs);
  const window = stored.filter(
    (r) => r.timeMs >= fromMs && (after === undefined || r.timeMs <= after),
  );
  const history = before === undefined ? 'whole' : 'recent';
  return DeviceTimeline.rebuild(reading.deviceId, window, settings, roomy, history, {
    loadedFromMs: fromMs,
  });
}

/**
 * As the processor does it with bounded memory (processors/energy/src/timelines.ts): a device's
 * timeline is loaded from the store on first use, from a horizon and a counter span limit
 * before the reading (`recent` history if the store holds older readings); a reading the
 * timeline refuses is placed in a temporary timeline of the stored readings around it, whose
 * changed quarter hours are totalled at once, and the in-memory timeline is dropped (totalled
 * first) to be loaded again by the device's next reading.
 */
function processBounded(
  delivery: readonly EnergyReading[],
  restartAt: number,
  batchSize: number,
  limits: TimelineLimits,
): Store {
  const store: Store = { raw: new Map(), deltas: new Map(), quarters: new Map() };
  let timelines = new Map<string, DeviceTimeline>();
  const changed = new Map<DeviceTimeline, Set<number>>();
  const settle = (timeline: DeviceTimeline) => {
    for (const q of changed.get(timeline) ?? [])
      store.quarters.set(`${timeline.deviceId}@${q}`, timeline.quarterHour(q));
    changed.delete(timeline);
  };
  const endBatch = () => {
    for (const timeline of [...changed.keys()]) {
      settle(timeline);
      timeline.evict();
    }
  };
  const storedOf = (deviceId: string) =>
    [...store.raw.values()].filter((r) => r.deviceId === deviceId);
  const load = (deviceId: string, atMs: number) => {
    const fromMs = quarterHourStartMs(atMs - limits.maxAgeMs - settings.maxCounterSpanMs);
    const stored = storedOf(deviceId);
    const recent = stored.filter((r) => r.timeMs >= fromMs);
    const history = recent.length < stored.length ? 'recent' : 'whole';
    return DeviceTimeline.rebuild(deviceId, recent, settings, limits, history, {
      loadedFromMs: fromMs,
    });
  };
  const record = (timeline: DeviceTimeline, outcome: InsertOutcome) => {
    if (outcome.status === 'before_horizon') throw new Error('a refused reading recorded');
    for (const d of outcome.readingDeltas) {
      store.raw.set(`${d.reading.deviceId}@${d.reading.timeMs}`, d.reading);
      store.deltas.set(`${d.reading.deviceId}@${d.reading.timeMs}`, d);
    }
    const starts = changed.get(timeline) ?? new Set<number>();
    for (const q of outcome.quarterHourStartsMs) starts.add(q);
    changed.set(timeline, starts);
  };
  delivery.forEach((reading, index) => {
    if (index % batchSize === 0 || index === restartAt) endBatch();
    if (index === restartAt) timelines = new Map();
    const { deviceId } = reading;
    const timeline = timelines.get(deviceId) ?? load(deviceId, reading.timeMs);
    timelines.set(deviceId, timeline);
    const outcome = timeline.insert(reading);
    if (outcome.status !== 'before_horizon') {
      record(timeline, outcome);
      return;
    }
    settle(timeline);
    timelines.delete(deviceId);
    const temporary = lateTimeline(storedOf(deviceId), reading);
    record(temporary, temporary.insert(reading));
    settle(temporary);
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
  it('holds with bounded memory too: reloads from recent history, eviction and late placement', () => {
    const bounded = fc.tuple(
      scenario,
      fc.record({
        maxReadings: fc.integer({ min: 2, max: 6 }),
        maxAgeMs: fc.integer({ min: 5, max: 120 }).map((minutes) => minutes * 60_000),
      }),
    );
    fc.assert(
      fc.property(bounded, ([{ distinct, delivery, restartAt, batchSize }, limits]) => {
        const store = processBounded(delivery, restartAt, batchSize, limits);
        const expected = reference(distinct);
        expect(sortedEntries(store.deltas)).toEqual(sortedEntries(expected.deltas));
        expect(sortedEntries(store.quarters)).toEqual(sortedEntries(expected.quarters));
      }),
      { numRuns: 300 },
    );
  });

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
