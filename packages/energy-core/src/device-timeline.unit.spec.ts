import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceTimeline } from './device-timeline.ts';
import type { EnergyReading } from './energy-reading.ts';
import type { EnergySettings } from './settings.ts';
import type { InsertOutcome } from './timeline-outcome.ts';

const MINUTE_MS = 60_000;
const t0 = Date.parse('2026-06-01T10:00:00Z');
const settings: EnergySettings = {
  maxIntegrationGapMs: 15 * MINUTE_MS,
  counterRollover: undefined,
  maxCounterSpanMs: 60 * MINUTE_MS,
};
const roomy = { maxReadings: 10_000, maxAgeMs: 30 * 24 * 60 * MINUTE_MS };

const at = (minutes: number, importWh: number): EnergyReading => ({
  deviceId: 'd1',
  timeMs: t0 + minutes * MINUTE_MS,
  importWh,
  quality: 'good',
});

function applied(outcome: InsertOutcome) {
  if (outcome.status === 'before_horizon') throw new Error('unexpectedly refused');
  return outcome;
}

/** A batch of one reading, as the processor runs it: insert, total what changed, evict. */
function insertBatch(timeline: DeviceTimeline, reading: EnergyReading) {
  const outcome = timeline.insert(reading);
  const quarterHours =
    outcome.status === 'before_horizon'
      ? []
      : outcome.quarterHourStartsMs.map((q) => timeline.quarterHour(q));
  timeline.evict();
  return { outcome, quarterHours };
}

const minutesOf = (ms: number) => (ms - t0) / MINUTE_MS;

/** A timeline rebuilt from a device's whole history, with room for everything. */
const wholeTimeline = (readings: EnergyReading[]) =>
  DeviceTimeline.rebuild('d1', readings, settings, roomy, 'whole');

describe('DeviceTimeline.insert', () => {
  it('the first reading has no delta and touches no bucket', () => {
    const outcome = applied(new DeviceTimeline('d1', settings, roomy).insert(at(0, 100)));
    expect(outcome.status).toBe('inserted');
    expect(outcome.readingDeltas).toEqual([{ reading: at(0, 100), interval: null }]);
    expect(outcome.quarterHourStartsMs).toEqual([]);
  });

  it('a late reading recomputes its own delta and its successor, and the buckets between', () => {
    // given readings at 10:00 (100 Wh) and 10:20 (400 Wh)
    const timeline = wholeTimeline([at(0, 100), at(20, 400)]);
    // when a reading for 10:10 (160 Wh) arrives late
    const outcome = applied(timeline.insert(at(10, 160)));
    // then its delta is 60 Wh and its successor's becomes 240 Wh
    expect(
      outcome.readingDeltas.map((d) => [minutesOf(d.reading.timeMs), d.interval?.importWh]),
    ).toEqual([
      [10, 60],
      [20, 240],
    ]);
    // and the quarters 10:00 (60 + 5/10 × 240) and 10:15 (5/10 × 240) are the changed ones
    expect(outcome.quarterHourStartsMs.map(minutesOf)).toEqual([0, 15]);
    const totals = outcome.quarterHourStartsMs.map((q) => timeline.quarterHour(q));
    expect(totals.map((q) => [minutesOf(q.startMs), q.importWh])).toEqual([
      [0, 180],
      [15, 120],
    ]);
  });

  it('an identical duplicate changes nothing but returns the current figures again', () => {
    const timeline = wholeTimeline([at(0, 100), at(10, 160)]);
    const before = timeline.quarterHour(t0);
    const outcome = applied(timeline.insert(at(10, 160)));
    expect(outcome.status).toBe('duplicate');
    expect(outcome.quarterHourStartsMs).toEqual([t0]);
    expect(timeline.quarterHour(t0)).toEqual(before);
    expect(timeline.size).toBe(2);
  });

  it('a different reading at the same instant is merged with the held one (the larger counter)', () => {
    const timeline = wholeTimeline([at(0, 100), at(10, 160)]);
    const outcome = applied(timeline.insert(at(10, 190)));
    expect(outcome.status).toBe('merged');
    expect(outcome.readingDeltas[0]?.interval?.importWh).toBe(90);
    expect(timeline.quarterHour(t0).importWh).toBe(90);
    expect(timeline.size).toBe(2);
  });

  it('refuses a reading for another device', () => {
    const timeline = new DeviceTimeline('d1', settings, roomy);
    expect(() => timeline.insert({ ...at(0, 1), deviceId: 'd2' })).toThrow(RangeError);
  });
});

describe('DeviceTimeline.settledMs', () => {
  it('is the newest reading, or the last counter reading while its span may still close', () => {
    // given a power-only device, then a counter at 10:05 and power readings after it
    const timeline = new DeviceTimeline('d1', settings, roomy);
    timeline.insert({ ...at(0, 0), importWh: undefined, powerW: 100 });
    expect(timeline.settledMs).toBe(t0);
    timeline.insert(at(5, 100));
    timeline.insert({ ...at(20, 0), importWh: undefined, powerW: 100 });
    // then a quarter hour is settled only up to 10:05: the next counter reading would split
    // the power readings' intervals again
    expect(timeline.settledMs).toBe(t0 + 5 * MINUTE_MS);
    // and once that counter is more than a span limit back, up to the newest reading again
    timeline.insert({ ...at(66, 0), importWh: undefined, powerW: 100 });
    expect(timeline.settledMs).toBe(t0 + 66 * MINUTE_MS);
  });
});

describe('DeviceTimeline bounds', () => {
  it('evicts the oldest readings beyond maxReadings and refuses readings it can no longer place', () => {
    // given room for three readings, and readings every 5 minutes from 10:00
    const timeline = new DeviceTimeline('d1', settings, {
      maxReadings: 3,
      maxAgeMs: 24 * 60 * MINUTE_MS,
    });
    for (let i = 0; i <= 5; i++) insertBatch(timeline, at(i * 5, 100 + i * 10));
    // then only 10:15, 10:20 and 10:25 are held, and buckets from 10:15 are complete
    expect(timeline.readings().map((r) => minutesOf(r.timeMs))).toEqual([15, 20, 25]);
    // when a reading older than the held ones arrives, it is refused, not half-applied
    expect(timeline.insert(at(12, 999)).status).toBe('before_horizon');
    // and one inside the held window is still placed
    expect(timeline.insert(at(17, 125)).status).toBe('inserted');
  });

  it('evicts only when asked, so a batch can total every quarter hour it changed', () => {
    // given room for two readings
    const timeline = new DeviceTimeline('d1', settings, {
      maxReadings: 2,
      maxAgeMs: 24 * 60 * MINUTE_MS,
    });
    // when a batch inserts four readings across two quarter hours
    const changed = new Set<number>();
    for (const [minute, wh] of [
      [0, 100],
      [10, 150],
      [20, 200],
      [30, 260],
    ] as const) {
      for (const q of applied(timeline.insert(at(minute, wh))).quarterHourStartsMs) changed.add(q);
    }
    // then every changed quarter hour can still be totalled before the eviction:
    // 10:00 = 50 + half of 50, 10:15 = the other half + 60
    expect([...changed].map((q) => [minutesOf(q), timeline.quarterHour(q).importWh])).toEqual([
      [0, 75],
      [15, 85],
    ]);
    // and evicting afterwards keeps two readings, and what the evicted ones gave 10:15
    timeline.evict();
    expect(timeline.readings().map((r) => minutesOf(r.timeMs))).toEqual([20, 30]);
    expect(timeline.quarterHour(t0 + 15 * MINUTE_MS).importWh).toBe(85);
    // so a reading placed in 10:15 later still gives its whole total: 10:15 = 25 + 50 + 10 + 40
    const { quarterHours } = insertBatch(timeline, at(25, 210));
    expect(quarterHours.map((q) => [minutesOf(q.startMs), q.importWh])).toEqual([[15, 85]]);
  });

  it('evicts readings older than maxAgeMs before the newest (event time)', () => {
    const timeline = new DeviceTimeline('d1', settings, {
      maxReadings: 100,
      maxAgeMs: 60 * MINUTE_MS,
    });
    insertBatch(timeline, at(0, 0));
    insertBatch(timeline, at(30, 10));
    insertBatch(timeline, at(90, 20));
    expect(timeline.readings().map((r) => minutesOf(r.timeMs))).toEqual([30, 90]);
  });

  it('complete buckets of a bounded timeline equal those of an unbounded one', () => {
    const bounded = new DeviceTimeline('d1', settings, {
      maxReadings: 4,
      maxAgeMs: 24 * 60 * MINUTE_MS,
    });
    const unbounded = new DeviceTimeline('d1', settings, roomy);
    for (let i = 0; i < 40; i++) {
      const reading = at(i * 4, i * i);
      const fromBounded = insertBatch(bounded, reading);
      const fromUnbounded = insertBatch(unbounded, reading);
      expect(fromBounded.outcome.status).toBe('inserted');
      expect(fromBounded.quarterHours).toEqual(fromUnbounded.quarterHours);
    }
  });

  it('a rebuild from recent history does not report the bucket before its first reading', () => {
    // given the I/O side loaded only readings from 10:05 on, which count both directions (so
    // no counter span can reach back before them)
    const timeline = DeviceTimeline.rebuild<EnergyReading>(
      'd1',
      [
        { ...at(5, 100), exportWh: 0 },
        { ...at(20, 130), exportWh: 0 },
      ],
      settings,
      roomy,
      'recent',
    );
    // then the 10:00 bucket is incomplete and a reading needing 10:05's predecessor is refused
    expect(timeline.completeFromMs).toBe(t0 + 15 * MINUTE_MS);
    expect(timeline.insert(at(2, 90)).status).toBe('before_horizon');
    expect(timeline.insert(at(10, 115)).status).toBe('before_horizon');
    // while a reading after the first whole bucket is placed
    const { quarterHours } = insertBatch(timeline, { ...at(25, 150), exportWh: 0 });
    // 10:15 gets 5 of the 15 minutes of 10:05-10:20 (30 Wh) and all of 10:20-10:25 (20 Wh)
    expect(quarterHours.map((q) => [minutesOf(q.startMs), q.importWh])).toEqual([[15, 30]]);
  });

  it('a rebuild from recent history waits a span limit for a direction it has no counter of', () => {
    // given readings from 10:05 on that count import only: an export counter before 10:05 (not
    // loaded) could bound a span reaching up to an hour into them
    const timeline = DeviceTimeline.rebuild(
      'd1',
      [at(5, 100), at(20, 130)],
      settings,
      roomy,
      'recent',
    );
    // then buckets are complete only from the first quarter hour an hour after 10:05
    expect(timeline.completeFromMs).toBe(t0 + 75 * MINUTE_MS);
    expect(timeline.insert(at(25, 150)).status).toBe('before_horizon');
    // unless the loader says it loaded everything from an hour before
    const loaded = DeviceTimeline.rebuild(
      'd1',
      [at(5, 100), at(20, 130)],
      settings,
      roomy,
      'recent',
      {
        loadedFromMs: t0 - 60 * MINUTE_MS,
      },
    );
    expect(loaded.completeFromMs).toBe(t0 + 15 * MINUTE_MS);
    expect(loaded.insert(at(25, 150)).status).toBe('inserted');
  });

  it('refuses a reading at the instant of the oldest loaded one, whose interval is unknown', () => {
    // given a rebuild from recent history whose oldest reading is on a quarter-hour boundary
    const timeline = DeviceTimeline.rebuild(
      'd1',
      [at(15, 100), at(20, 130)],
      settings,
      roomy,
      'recent',
      { loadedFromMs: t0 - 60 * MINUTE_MS },
    );
    // then even its duplicate is refused: answering it would store it as a device's first
    expect(timeline.insert(at(15, 100)).status).toBe('before_horizon');
  });

  it('a rebuild merges several readings given for the same instant (the larger counter)', () => {
    const timeline = wholeTimeline([at(0, 100), at(10, 170), at(10, 150)]);
    expect(timeline.quarterHour(t0).importWh).toBe(70);
  });
});

/** Readings at 10:10, 10:15, 10:20 and 10:25 in a timeline that holds three: 10:10 is evicted. */
function timelineWithEvictedPredecessor(): DeviceTimeline {
  const timeline = new DeviceTimeline('d1', settings, {
    maxReadings: 3,
    maxAgeMs: 24 * 60 * MINUTE_MS,
  });
  for (const [minute, wh] of [
    [10, 100],
    [15, 150],
    [20, 200],
    [25, 250],
  ] as const) {
    insertBatch(timeline, at(minute, wh));
  }
  return timeline;
}

describe('DeviceTimeline at its oldest held reading', () => {
  it('refuses a different reading at the instant of the oldest held one once its predecessor is evicted', () => {
    // given a timeline of three readings whose oldest, on a quarter-hour boundary (10:15),
    // still knows its interval from 10:10 although 10:10 itself was evicted
    const timeline = timelineWithEvictedPredecessor();
    expect(timeline.readings().map((r) => minutesOf(r.timeMs))).toEqual([15, 20, 25]);
    // when a corrected reading for 10:15 arrives (its predecessor is no longer held)
    const outcome = timeline.insert(at(15, 160));
    // then it is refused, to be placed from storage, instead of losing its interval
    expect(outcome.status).toBe('before_horizon');
  });

  it('still answers an identical duplicate of that reading with its known interval', () => {
    const timeline = timelineWithEvictedPredecessor();
    const outcome = applied(timeline.insert(at(15, 150)));
    expect(outcome.status).toBe('duplicate');
    expect(outcome.readingDeltas[0]?.interval?.importWh).toBe(50);
  });
});

describe('DeviceTimeline eviction, as a property', () => {
  it('gives every quarter hour the total a timeline that keeps everything gives', () => {
    // Readings of one device at distinct minutes over five hours, delivered in an order where
    // most arrive in time order and some late, with room for only a few readings.
    const scenario = fc.record({
      minutes: fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 2, maxLength: 60 }),
      swaps: fc.array(fc.nat(), { maxLength: 10 }),
      maxReadings: fc.integer({ min: 2, max: 6 }),
      importWh: fc.array(fc.nat(500), { minLength: 60, maxLength: 60 }),
    });
    fc.assert(
      fc.property(scenario, ({ minutes, swaps, maxReadings, importWh }) => {
        const order = [...minutes].sort((a, b) => a - b);
        for (const swap of swaps) {
          const i = swap % (order.length - 1);
          [order[i], order[i + 1]] = [order[i + 1] ?? 0, order[i] ?? 0];
        }
        const bounded = new DeviceTimeline('d1', settings, {
          maxReadings,
          maxAgeMs: 24 * 60 * MINUTE_MS,
        });
        const unbounded = new DeviceTimeline('d1', settings, roomy);
        for (const [n, minute] of order.entries()) {
          // a counter that only grows with time, so totals are not all zero
          const reading = at(minute, minute * 10 + (importWh[n] ?? 0) / 1000);
          const fromBounded = insertBatch(bounded, reading);
          // a refused reading goes the slow way (from storage) in the processor; skip it here
          if (fromBounded.outcome.status === 'before_horizon') continue;
          const fromUnbounded = insertBatch(unbounded, reading);
          expect(fromBounded.quarterHours).toEqual(fromUnbounded.quarterHours);
        }
        // and a bounded timeline never holds more than it may
        expect(bounded.size).toBeLessThanOrEqual(maxReadings);
      }),
      { numRuns: 500 },
    );
  });
});
