import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_ENERGY_SETTINGS,
  DeviceTimeline,
  QUARTER_HOUR_MS,
  quarterHourStartMs,
  quarterHourStartsBetween,
} from '@gridstream/energy-core';
import type { EnergyReading } from '@gridstream/energy-core';
import { betraysLostReadings, lostReadingsReason, lostReadingsWindow } from './lost-readings.ts';

const START_MS = Date.UTC(2026, 0, 1);
const MINUTE_MS = 60_000;
const SPAN_MS = DEFAULT_ENERGY_SETTINGS.maxCounterSpanMs;
const unbounded = { maxReadings: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER };

describe('the quarter hours whose kept figures betray lost readings', () => {
  it('run from the load start to the quarter hour of the first held reading', () => {
    // given a load from 10:07 that holds the device's readings from 11:20 on
    const window = lostReadingsWindow(START_MS + 607 * MINUTE_MS, START_MS + 680 * MINUTE_MS);
    // then a figure of 10:00 or of 11:00 betrays lost readings, one of 11:15 does not
    expect(window).toEqual({
      fromMs: START_MS + 600 * MINUTE_MS,
      toMs: START_MS + 675 * MINUTE_MS,
    });
    expect(betraysLostReadings(window, START_MS + 600 * MINUTE_MS)).toBe(true);
    expect(betraysLostReadings(window, START_MS + 660 * MINUTE_MS)).toBe(true);
    expect(betraysLostReadings(window, START_MS + 675 * MINUTE_MS)).toBe(false);
    expect(betraysLostReadings(window, undefined)).toBe(false);
  });

  it('reach on for ever when no reading of the device is held', () => {
    const window = lostReadingsWindow(START_MS, undefined);
    expect(betraysLostReadings(window, START_MS + 400 * 86_400_000)).toBe(true);
  });
});

interface Model {
  readonly history: EnergyReading[];
  /** Readings before it are gone from QuestDB (a whole quarter hour at least: TTLs drop days). */
  readonly droppedBeforeMs: number;
  readonly late: EnergyReading;
}

const reading = (timeMs: number, kind: number, importWh: number): EnergyReading => ({
  deviceId: 'meter',
  timeMs,
  quality: 'good',
  ...(kind !== 1 ? { powerW: 200 + ((timeMs / MINUTE_MS) % 700) } : {}),
  ...(kind !== 2 ? { importWh } : {}),
});

/** A device's readings (counters, power or both), the instant before which they are gone, and a reading that comes late. */
const model: fc.Arbitrary<Model> = fc
  .record({
    steps: fc.array(
      fc.record({ gapMin: fc.integer({ min: 1, max: 50 }), kind: fc.integer({ min: 0, max: 2 }) }),
      { minLength: 2, maxLength: 25 },
    ),
    cutAt: fc.nat(),
    lateAt: fc.nat(),
    lateKind: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ steps, cutAt, lateAt, lateKind }) => {
    let timeMs = START_MS;
    let importWh = 10_000;
    const history = steps.map(({ gapMin, kind }) => {
      timeMs += gapMin * MINUTE_MS;
      importWh += gapMin * 7;
      return reading(timeMs, kind, importWh);
    });
    // cut at the quarter hour of one of the readings after the first, or after them all
    const cutIndex = 1 + (cutAt % history.length);
    const cut = history[cutIndex];
    // at a quarter hour (QuestDB drops whole days): maybe before the first reading, none gone
    const droppedBeforeMs =
      cut === undefined
        ? quarterHourStartMs(timeMs) + QUARTER_HOUR_MS
        : quarterHourStartMs(cut.timeMs);
    // the late reading: at a free half minute before the first held reading (there is none
    // before it held), anywhere from two hours before the history on
    const heldFromMs =
      history.find((r) => r.timeMs >= droppedBeforeMs)?.timeMs ?? timeMs + 3 * SPAN_MS;
    const earliestMs = START_MS - 2 * SPAN_MS;
    const slots = Math.max(1, Math.floor((heldFromMs - earliestMs) / MINUTE_MS));
    const lateMs = earliestMs + (lateAt % slots) * MINUTE_MS + 30_000;
    const before = history.filter((r) => r.timeMs < lateMs).at(-1);
    return { history, droppedBeforeMs, late: reading(lateMs, lateKind, before?.importWh ?? 9_000) };
  })
  .filter(({ late, history }) => history.every((r) => r.timeMs !== late.timeMs));

describe('a late reading with no held reading before it', () => {
  it('is placed only where it rewrites no kept figure wrongly, and refused only where readings are gone', () => {
    fc.assert(
      fc.property(model, ({ history, droppedBeforeMs, late }) => {
        // given the figures kept from the whole history, and QuestDB holding its later part
        const first = history[0];
        const last = history.at(-1);
        const kept = new Set(
          first && last ? quarterHourStartsBetween(first.timeMs, last.timeMs) : [],
        );
        const held = history.filter((r) => r.timeMs >= droppedBeforeMs);
        // when the late path loads what the processor loads for it and looks at the figures
        const loadFromMs = quarterHourStartMs(late.timeMs - SPAN_MS) - SPAN_MS;
        const window = lostReadingsWindow(loadFromMs, held[0]?.timeMs);
        const earliestFigureMs = [...kept]
          .filter((startMs) => startMs >= window.fromMs)
          .sort((a, b) => a - b)[0];
        const refused = betraysLostReadings(window, earliestFigureMs);
        if (refused) {
          // then a refusal means readings are indeed gone
          expect(held.length).toBeLessThan(history.length);
          return;
        }
        // and a placement rewrites every kept quarter hour it touches with its true figure
        const placed = DeviceTimeline.rebuild(
          'meter',
          held,
          DEFAULT_ENERGY_SETTINGS,
          unbounded,
          'whole',
        );
        const outcome = placed.insert(late);
        if (outcome.status === 'before_horizon') throw new Error('a whole timeline refused it');
        const truth = DeviceTimeline.rebuild(
          'meter',
          [...history, late],
          DEFAULT_ENERGY_SETTINGS,
          unbounded,
          'whole',
        );
        for (const startMs of outcome.quarterHourStartsMs.filter((q) => kept.has(q)))
          expect(placed.quarterHour(startMs)).toEqual(truth.quarterHour(startMs));
      }),
      { numRuns: 500 },
    );
  });
});

describe('the reason a reading is dead-lettered', () => {
  it('names the reading, the kept figures, the setting and what to do', () => {
    const lost = {
      tenant: 'acme',
      deviceId: 'meter-1',
      readingMs: Date.UTC(2026, 5, 1, 10, 30),
      figureMs: Date.UTC(2026, 5, 1, 8, 30),
    };
    const reason = lostReadingsReason({ ...lost, ttlDays: 90 });
    expect(reason).toContain('acme/meter-1 at 2026-06-01T10:30:00.000Z');
    expect(reason).toContain('figures from 2026-06-01T08:30:00.000Z on are kept');
    expect(reason).toContain('90 days, GS_RETENTION_READINGS_TABLE_DAYS');
    expect(reason).toContain('Raising the retention brings nothing back');
    expect(lostReadingsReason({ ...lost, ttlDays: 0 })).toContain(
      'GS_RETENTION_READINGS_TABLE_DAYS=0',
    );
  });
});
