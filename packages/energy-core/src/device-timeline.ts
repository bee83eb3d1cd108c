import { addToBucket, bucketTotalOf, copyBucketSum, emptyBucketSum } from './bucket-split.ts';
import type { BucketSum } from './bucket-split.ts';
import type { DeviceBucketTotal } from './bucket-total.ts';
import { quarterHourStartMs, quarterHourStartsBetween } from './calendar-buckets.ts';
import { affectedRange, appendedInterval, isSpanBoundary, spanIntervals } from './counter-span.ts';
import { mergeEnergyReadings, sameEnergyReading } from './energy-reading.ts';
import type { EnergyReading, ReadingMerge } from './energy-reading.ts';

const hasCounter = (reading: EnergyReading) =>
  reading.importWh !== undefined || reading.exportWh !== undefined;
import { intervalEnergy } from './interval-energy.ts';
import type { IntervalEnergy } from './interval-energy.ts';
import type { EnergySettings } from './settings.ts';
import type {
  InsertOutcome,
  InsertStatus,
  ReadingDelta,
  TimelineLimits,
} from './timeline-outcome.ts';
import { QUARTER_HOUR_MS } from './units.ts';

/** Whether a rebuild was given the device's whole history or only its recent part. */
export type LoadedHistory = 'whole' | 'recent';

export interface RebuildOptions<R extends EnergyReading> {
  /**
   * With `recent` history: every stored reading from this instant on was loaded (default: the
   * oldest loaded reading's time). Readings before it are unknown, and an anchor among them
   * could bound a counter span up to `maxCounterSpanMs` later.
   */
  readonly loadedFromMs?: number;
  /** How two readings at one instant combine; required for a reading type with more fields. */
  readonly merge?: ReadingMerge<R>;
}

/**
 * One device's readings in event-time order, with the energy of each interval. Totals are
 * recomputed from the held intervals in time order, never adjusted by increments, so they are
 * a function of the set of readings held: arrival order and duplicates cannot change them.
 *
 * `insert` names the quarter hours a reading changed but does not total them, and it does not
 * evict: a caller totals each changed quarter hour once per batch of inserts (`quarterHour`),
 * then calls `evict`. The timeline holds whatever reading type the caller gives it (the
 * processor keeps whole stored rows, so a row can be rewritten with its new delta).
 */
export class DeviceTimeline<R extends EnergyReading = EnergyReading> {
  readonly deviceId: string;
  readonly #settings: EnergySettings;
  readonly #limits: TimelineLimits;
  readonly #merge: ReadingMerge<R>;
  /** The held readings in time order, distinct instants. */
  #readings: R[] = [];
  /** `#intervals[i]`: the interval ending at `#readings[i]`; null when its predecessor is not known. */
  #intervals: (IntervalEnergy | null)[] = [];
  /** Buckets before this are only partly known (readings before it were never loaded). */
  #completeFromMs = -Infinity;
  /**
   * The time of the oldest held reading once older ones were evicted: a reading before it
   * cannot be placed (its predecessor is gone), so it is refused.
   */
  #heldFromMs = -Infinity;
  /** Readings before this were never loaded (a rebuild from recent history). */
  #unknownBeforeMs = -Infinity;
  /**
   * How many held readings carry a counter. Without any, every interval is its two readings'
   * alone (power), and inserting and evicting skip the search for counter spans: the figures
   * are the same, for a power-only device without that cost per reading.
   */
  #withCounters = 0;
  /**
   * Per 15-minute bucket, the sum of the evicted intervals that fall in it, in time order. A
   * bucket's total continues from here over the held intervals, which all come after them, so
   * it is the sum over all its intervals in time order, as if nothing had been evicted.
   */
  readonly #sealed = new Map<number, BucketSum>();

  constructor(
    deviceId: string,
    settings: EnergySettings,
    limits: TimelineLimits,
    merge?: ReadingMerge<R>,
  ) {
    this.deviceId = deviceId;
    this.#settings = settings;
    this.#limits = limits;
    // The default knows only the energy fields: a reading type with more passes its own.
    this.#merge = merge ?? (mergeEnergyReadings as unknown as ReadingMerge<R>);
  }

  /**
   * A timeline from stored readings (e.g. loaded from QuestDB when a partition is assigned).
   * With `recent` history, readings before the loaded ones are unknown, so the buckets whose
   * intervals could depend on them are not reported, and a reading that would change such an
   * interval is refused.
   */
  static rebuild<R extends EnergyReading>(
    deviceId: string,
    readings: Iterable<R>,
    settings: EnergySettings,
    limits: TimelineLimits,
    history: LoadedHistory,
    options: RebuildOptions<R> = {},
  ): DeviceTimeline<R> {
    const timeline = new DeviceTimeline<R>(deviceId, settings, limits, options.merge);
    const byTime = new Map<number, R>();
    for (const reading of readings) {
      timeline.#assertDevice(reading);
      const held = byTime.get(reading.timeMs);
      byTime.set(reading.timeMs, held === undefined ? reading : timeline.#merge(held, reading));
    }
    const sorted = [...byTime.values()].sort((a, b) => a.timeMs - b.timeMs);
    timeline.#readings = sorted;
    timeline.#withCounters = sorted.filter(hasCounter).length;
    timeline.#intervals = sorted.length === 0 ? [] : [null, ...spanIntervals(sorted, settings)];
    const oldest = sorted[0];
    // Nothing loaded of a device with a history: any reading needs a predecessor it lacks.
    if (history === 'recent' && !oldest) timeline.#completeFromMs = Infinity;
    if (history === 'recent' && oldest) {
      const loadedFromMs = Math.min(options.loadedFromMs ?? oldest.timeMs, oldest.timeMs);
      timeline.#unknownBeforeMs = loadedFromMs;
      // An interval ending at least a span limit after the unknown part cannot be in a span
      // with an anchor there; nor one after a reading that carries both counters.
      const settledMs = Math.max(loadedFromMs + settings.maxCounterSpanMs, oldest.timeMs);
      const bothCounters = sorted.find((r) => r.importWh !== undefined && r.exportWh !== undefined);
      timeline.#markIncompleteBefore(Math.min(settledMs, bothCounters?.timeMs ?? Infinity));
    }
    // Not evicted here: the caller loaded these readings for the batch it is placing, which may
    // start well before the newest ones; it evicts once the batch is placed.
    return timeline;
  }

  get size(): number {
    return this.#readings.length;
  }

  /** 15-minute buckets starting before this are incomplete (not loaded) and never reported. */
  get completeFromMs(): number {
    return this.#completeFromMs;
  }

  /** The newest reading held. */
  get newest(): R | undefined {
    return this.#readings.at(-1);
  }

  /** The time of the newest reading held; a quarter hour ending at or before it is closed. */
  get newestMs(): number | undefined {
    return this.#readings.at(-1)?.timeMs;
  }

  /**
   * Until when the held intervals are final unless late data arrives: a reading after the
   * newest can change the intervals back to the last counter reading within a counter span
   * limit (closing its span), in each direction; without one, only the interval it ends. A
   * quarter hour ending by then is closed.
   */
  get settledMs(): number | undefined {
    const newest = this.#readings.at(-1);
    if (newest === undefined || this.#withCounters === 0) return newest?.timeMs;
    let settledMs = newest.timeMs;
    for (const key of ['importWh', 'exportWh'] as const) {
      for (let k = this.#readings.length - 1; k >= 0; k--) {
        const reading = this.#readings[k];
        if (reading === undefined) break;
        if (newest.timeMs - reading.timeMs >= this.#settings.maxCounterSpanMs) break;
        if (reading[key] !== undefined) {
          settledMs = Math.min(settledMs, reading.timeMs);
          break;
        }
      }
    }
    return settledMs;
  }

  readings(): R[] {
    return [...this.#readings];
  }

  /**
   * Places a reading, merged with one held at the same instant, and recomputes every interval
   * it changes: with counter spans, from the anchor before it to the anchor after it.
   */
  insert(incoming: R): InsertOutcome<R> {
    this.#assertDevice(incoming);
    if (incoming.timeMs < this.#heldFromMs) return { status: 'before_horizon', reading: incoming };
    const index = this.#firstIndexAtOrAfter(incoming.timeMs);
    const existing = this.#readings[index];
    const isSameInstant = existing?.timeMs === incoming.timeMs;
    let status: InsertStatus = 'inserted';
    let reading = incoming;
    if (existing && isSameInstant) {
      reading = this.#merge(existing, incoming);
      status = sameEnergyReading(existing, reading) ? 'duplicate' : 'merged';
      if (index === 0 && !this.#oldestIntervalKnown(status))
        return { status: 'before_horizon', reading: incoming };
      this.#readings[index] = reading;
      this.#withCounters += Number(hasCounter(reading)) - Number(hasCounter(existing));
    } else {
      // Appending (the usual reading) pushes: a splice makes an array of what it removed.
      if (index === this.#readings.length) {
        this.#readings.push(reading);
        this.#intervals.push(null);
      } else {
        this.#readings.splice(index, 0, reading);
        this.#intervals.splice(index, 0, null);
      }
      this.#withCounters += Number(hasCounter(reading));
    }
    const [lo, hi] =
      this.#withCounters === 0
        ? [Math.max(0, index - 1), Math.min(this.#readings.length - 1, index + 1)]
        : affectedRange(this.#readings, index, this.#settings);
    if ((this.#readings[lo]?.timeMs ?? incoming.timeMs) < this.#completeFromMs) {
      const restored = existing && isSameInstant ? existing : undefined;
      this.#withCounters +=
        (restored ? Number(hasCounter(restored)) : 0) - Number(hasCounter(reading));
      if (restored) this.#readings[index] = restored;
      else {
        this.#readings.splice(index, 1);
        this.#intervals.splice(index, 1);
      }
      return { status: 'before_horizon', reading: incoming };
    }
    if (status !== 'duplicate' && hi > lo) {
      if (this.#withCounters > 0 && hi === lo + 1 && hi === this.#readings.length - 1)
        // The newest reading, its span at most the interval to the one before: no search.
        this.#intervals[hi] = appendedInterval(this.#readings, hi, this.#settings);
      else {
        const intervals =
          this.#withCounters === 0
            ? this.#powerIntervals(lo + 1, hi)
            : spanIntervals(this.#readings, this.#settings, lo + 1, hi);
        for (const [offset, interval] of intervals.entries())
          this.#intervals[lo + 1 + offset] = interval;
      }
    }
    const readingDeltas: ReadingDelta<R>[] = [];
    for (let i = Math.min(lo + 1, index); i <= hi; i++) {
      const held = this.#readings[i];
      if (held) readingDeltas.push({ reading: held, interval: this.#intervals[i] ?? null });
    }
    const fromMs = this.#readings[lo]?.timeMs ?? reading.timeMs;
    const toMs = this.#readings[hi]?.timeMs ?? reading.timeMs;
    return { status, readingDeltas, quarterHourStartsMs: quarterHourStartsBetween(fromMs, toMs) };
  }

  /**
   * The device's total in the 15-minute bucket starting at `startMs`: what evicted intervals
   * left in it, then the held intervals, in time order.
   */
  quarterHour(startMs: number): DeviceBucketTotal {
    const endMs = startMs + QUARTER_HOUR_MS;
    const sealed = this.#sealed.get(startMs);
    const sum = sealed === undefined ? emptyBucketSum() : copyBucketSum(sealed);
    for (let i = this.#firstIndexAfter(startMs); i < this.#intervals.length; i++) {
      const interval = this.#intervals[i];
      if (!interval) continue;
      if (interval.startMs >= endMs) break;
      addToBucket(sum, startMs, endMs, interval);
    }
    return bucketTotalOf(this.deviceId, 'quarter_hour', startMs, endMs, sum);
  }

  /**
   * Drops the oldest readings beyond the limits, keeping what their intervals gave each bucket
   * (`#sealed`), so every bucket stays computable; call it after totalling what a batch of
   * inserts changed. Readings older than the oldest kept one are refused from then on.
   */
  evict(): void {
    const newest = this.#readings.at(-1);
    if (!newest) return;
    const oldestKeptMs = newest.timeMs - this.#limits.maxAgeMs;
    let count = 0;
    while (
      count < this.#readings.length - 1 &&
      (this.#readings.length - count > this.#limits.maxReadings ||
        (this.#readings[count]?.timeMs ?? Infinity) < oldestKeptMs)
    ) {
      count++;
    }
    // Only at a span boundary: an interval after it may not depend on what is dropped. An open
    // or short counter span is therefore held whole, beyond the limits (at most the span limit).
    while (count > 0 && !this.#isSpanBoundary(count)) count--;
    if (count === 0) return;
    for (const interval of this.#intervals.slice(0, count)) {
      if (interval === null) continue;
      for (const startMs of quarterHourStartsBetween(interval.startMs, interval.endMs)) {
        let sum = this.#sealed.get(startMs);
        if (sum === undefined) {
          sum = emptyBucketSum();
          this.#sealed.set(startMs, sum);
        }
        addToBucket(sum, startMs, startMs + QUARTER_HOUR_MS, interval);
      }
    }
    for (const evicted of this.#readings.splice(0, count))
      this.#withCounters -= Number(hasCounter(evicted));
    this.#intervals.splice(0, count);
    this.#heldFromMs = this.#readings[0]?.timeMs ?? this.#heldFromMs;
    // What came before a span boundary no longer matters to any interval held.
    this.#unknownBeforeMs = -Infinity;
    // No reading before the oldest held one is placed, so no bucket before its own changes.
    const firstChangeableMs = quarterHourStartMs(this.#heldFromMs);
    for (const startMs of this.#sealed.keys())
      if (startMs < firstChangeableMs) this.#sealed.delete(startMs);
  }

  /** The intervals ending at first..last from their two readings alone (no counter held). */
  #powerIntervals(first: number, last: number): IntervalEnergy[] {
    const intervals: IntervalEnergy[] = [];
    for (let i = first; i <= last; i++) {
      const previous = this.#readings[i - 1];
      const next = this.#readings[i];
      if (previous && next) intervals.push(intervalEnergy(previous, next, this.#settings));
    }
    return intervals;
  }

  #isSpanBoundary(index: number): boolean {
    if (this.#withCounters > 0)
      return isSpanBoundary(this.#readings, index, this.#settings, this.#unknownBeforeMs);
    // No counter held: only one before what was loaded could still reach past this reading.
    const atMs = this.#readings[index]?.timeMs ?? -Infinity;
    const oldestMs = this.#readings[0]?.timeMs ?? atMs;
    const limitMs = this.#settings.maxCounterSpanMs;
    return atMs - this.#unknownBeforeMs >= limitMs || (index > 0 && atMs - oldestMs >= limitMs);
  }

  /**
   * Whether a reading at the instant of the oldest held one can be answered with that reading's
   * row. Its predecessor is not held: evicted (its interval is known, but cannot be recomputed,
   * so only a duplicate is answered, and only where the interval is known to be right) or never
   * loaded (its interval is unknown; writing it as "first" would lose it). Only a device's very
   * first reading has no predecessor at all.
   */
  #oldestIntervalKnown(status: InsertStatus): boolean {
    const oldest = this.#readings[0];
    if (oldest === undefined) return true;
    if (this.#intervals[0] === null)
      return this.#heldFromMs === -Infinity && this.#unknownBeforeMs === -Infinity;
    return status === 'duplicate' && oldest.timeMs > this.#completeFromMs;
  }

  /** Intervals ending before this instant may be wrong, so its bucket is only partly known. */
  #markIncompleteBefore(oldestMs: number): void {
    const firstWholeMs =
      quarterHourStartMs(oldestMs) === oldestMs
        ? oldestMs
        : quarterHourStartMs(oldestMs) + QUARTER_HOUR_MS;
    this.#completeFromMs = Math.max(this.#completeFromMs, firstWholeMs);
  }

  #firstIndexAtOrAfter(timeMs: number): number {
    let low = 0;
    let high = this.#readings.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#readings[mid]?.timeMs ?? Infinity) < timeMs) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #firstIndexAfter(timeMs: number): number {
    const index = this.#firstIndexAtOrAfter(timeMs);
    return this.#readings[index]?.timeMs === timeMs ? index + 1 : index;
  }

  #assertDevice(reading: R): void {
    if (reading.deviceId !== this.deviceId) {
      throw new RangeError(
        `reading of ${reading.deviceId} given to the timeline of ${this.deviceId}`,
      );
    }
  }
}
