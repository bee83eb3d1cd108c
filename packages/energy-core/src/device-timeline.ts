import { addToBucket, bucketTotalOf, copyBucketSum, emptyBucketSum } from './bucket-split.ts';
import type { BucketSum } from './bucket-split.ts';
import type { DeviceBucketTotal } from './bucket-total.ts';
import { quarterHourStartMs, quarterHourStartsBetween } from './calendar-buckets.ts';
import { sameEnergyReading } from './energy-reading.ts';
import type { EnergyReading } from './energy-reading.ts';
import { intervalEnergy } from './interval-energy.ts';
import type { IntervalEnergy } from './interval-energy.ts';
import type { EnergySettings } from './settings.ts';
import type { InsertOutcome, ReadingDelta, TimelineLimits } from './timeline-outcome.ts';
import { QUARTER_HOUR_MS } from './units.ts';

interface Entry<R extends EnergyReading> {
  reading: R;
  /** The interval ending at this reading; null when its predecessor is not known. */
  interval: IntervalEnergy | null;
}

/** Whether a rebuild was given the device's whole history or only its recent part. */
export type LoadedHistory = 'whole' | 'recent';

/**
 * One device's readings in event-time order, with the energy of each interval. Totals are
 * recomputed from the held intervals in time order, never adjusted by increments, so they are
 * a function of the set of readings held: arrival order and duplicates cannot change them.
 *
 * `insert` names the quarter hours a reading changed but does not total them, and it does not
 * evict: a caller totals each changed quarter hour once per batch of inserts (`quarterHour`),
 * then calls `evict`. The timeline holds whatever reading type the caller gives it (the
 * processor keeps whole stored rows, so a successor's row can be rewritten with its new delta).
 */
export class DeviceTimeline<R extends EnergyReading = EnergyReading> {
  readonly deviceId: string;
  readonly #settings: EnergySettings;
  readonly #limits: TimelineLimits;
  #entries: Entry<R>[] = [];
  /** Buckets before this are only partly known (readings before it were never loaded). */
  #completeFromMs = -Infinity;
  /**
   * The time of the oldest held reading once older ones were evicted: a reading before it
   * cannot be placed (its predecessor is gone), so it is refused.
   */
  #heldFromMs = -Infinity;
  /**
   * Per 15-minute bucket, the sum of the evicted intervals that fall in it, in time order. A
   * bucket's total continues from here over the held intervals, which all come after them, so
   * it is the sum over all its intervals in time order, as if nothing had been evicted.
   */
  readonly #sealed = new Map<number, BucketSum>();

  constructor(deviceId: string, settings: EnergySettings, limits: TimelineLimits) {
    this.deviceId = deviceId;
    this.#settings = settings;
    this.#limits = limits;
  }

  /**
   * A timeline from stored readings (e.g. loaded from QuestDB when a partition is assigned).
   * With `recent` history, readings before the oldest loaded one are unknown, so the bucket it
   * falls in is not reported and a later reading that would need its predecessor is refused.
   */
  static rebuild<R extends EnergyReading>(
    deviceId: string,
    readings: Iterable<R>,
    settings: EnergySettings,
    limits: TimelineLimits,
    history: LoadedHistory,
  ): DeviceTimeline<R> {
    const timeline = new DeviceTimeline<R>(deviceId, settings, limits);
    const byTime = new Map<number, R>();
    for (const reading of readings) {
      timeline.#assertDevice(reading);
      byTime.set(reading.timeMs, reading);
    }
    const sorted = [...byTime.values()].sort((a, b) => a.timeMs - b.timeMs);
    let previous: R | undefined;
    for (const reading of sorted) {
      const interval = previous ? intervalEnergy(previous, reading, settings) : null;
      timeline.#entries.push({ reading, interval });
      previous = reading;
    }
    const oldest = timeline.#entries[0];
    if (history === 'recent' && oldest) timeline.#markIncompleteBefore(oldest.reading.timeMs);
    // Not evicted here: the caller loaded these readings for the batch it is placing, which may
    // start well before the newest ones; it evicts once the batch is placed.
    return timeline;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** 15-minute buckets starting before this are incomplete (not loaded) and never reported. */
  get completeFromMs(): number {
    return this.#completeFromMs;
  }

  /** The time of the newest reading held; a quarter hour ending at or before it is closed. */
  get newestMs(): number | undefined {
    return this.#entries.at(-1)?.reading.timeMs;
  }

  readings(): R[] {
    return this.#entries.map((e) => e.reading);
  }

  insert(reading: R): InsertOutcome<R> {
    this.#assertDevice(reading);
    const index = this.#firstIndexAtOrAfter(reading.timeMs);
    const existing = this.#entries[index];
    const isSameInstant = existing?.reading.timeMs === reading.timeMs;
    const previous = this.#entries[index - 1];
    if (
      reading.timeMs < this.#heldFromMs ||
      (previous?.reading.timeMs ?? reading.timeMs) < this.#completeFromMs
    ) {
      return { status: 'before_horizon', reading };
    }
    // A different reading at the instant of the oldest held one, whose predecessor was evicted:
    // its interval cannot be recomputed here, and recomputing it as "first" would lose it.
    const predecessorEvicted = previous === undefined && existing?.interval != null;
    if (predecessorEvicted && isSameInstant && !sameEnergyReading(existing.reading, reading)) {
      return { status: 'before_horizon', reading };
    }
    let status: 'inserted' | 'replaced' | 'duplicate' = 'inserted';
    if (existing && isSameInstant) {
      status = sameEnergyReading(existing.reading, reading) ? 'duplicate' : 'replaced';
      // The last write wins, also for what does not change the energy (e.g. a temperature).
      existing.reading = reading;
    } else {
      this.#entries.splice(index, 0, { reading, interval: null });
    }
    const successorIndex = index + 1;
    if (status !== 'duplicate') {
      this.#recomputeInterval(index);
      this.#recomputeInterval(successorIndex);
    }
    const successor = this.#entries[successorIndex];
    const fromMs = previous?.reading.timeMs ?? reading.timeMs;
    const toMs = successor?.reading.timeMs ?? reading.timeMs;
    const own = this.#entries[index];
    const readingDeltas: ReadingDelta<R>[] = [];
    if (own) readingDeltas.push({ reading: own.reading, interval: own.interval });
    if (successor) readingDeltas.push({ reading: successor.reading, interval: successor.interval });
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
    for (let i = this.#firstIndexAfter(startMs); i < this.#entries.length; i++) {
      const interval = this.#entries[i]?.interval;
      if (!interval) continue;
      if (interval.startMs >= endMs) break;
      addToBucket(sum, startMs, endMs, interval);
    }
    return bucketTotalOf(this.deviceId, 'quarter_hour', startMs, endMs, sum);
  }

  #recomputeInterval(index: number): void {
    const entry = this.#entries[index];
    if (!entry) return;
    const previous = this.#entries[index - 1];
    entry.interval = previous
      ? intervalEnergy(previous.reading, entry.reading, this.#settings)
      : null;
  }

  /**
   * Drops the oldest readings beyond the limits, keeping what their intervals gave each bucket
   * (`#sealed`), so every bucket stays computable; call it after totalling what a batch of
   * inserts changed. Readings older than the oldest kept one are refused from then on.
   */
  evict(): void {
    const newest = this.#entries.at(-1);
    if (!newest) return;
    const oldestKeptMs = newest.reading.timeMs - this.#limits.maxAgeMs;
    let count = 0;
    while (
      count < this.#entries.length - 1 &&
      (this.#entries.length - count > this.#limits.maxReadings ||
        (this.#entries[count]?.reading.timeMs ?? Infinity) < oldestKeptMs)
    ) {
      count++;
    }
    if (count === 0) return;
    for (const { interval } of this.#entries.slice(0, count)) {
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
    this.#entries.splice(0, count);
    this.#heldFromMs = this.#entries[0]?.reading.timeMs ?? this.#heldFromMs;
    // No reading before the oldest held one is placed, so no bucket before its own changes.
    const firstChangeableMs = quarterHourStartMs(this.#heldFromMs);
    for (const startMs of this.#sealed.keys())
      if (startMs < firstChangeableMs) this.#sealed.delete(startMs);
  }

  /** The oldest held reading's predecessor is unknown, so its bucket is only partly known. */
  #markIncompleteBefore(oldestMs: number): void {
    const firstWholeMs =
      quarterHourStartMs(oldestMs) === oldestMs
        ? oldestMs
        : quarterHourStartMs(oldestMs) + QUARTER_HOUR_MS;
    this.#completeFromMs = Math.max(this.#completeFromMs, firstWholeMs);
  }

  #firstIndexAtOrAfter(timeMs: number): number {
    let low = 0;
    let high = this.#entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#entries[mid]?.reading.timeMs ?? Infinity) < timeMs) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #firstIndexAfter(timeMs: number): number {
    const index = this.#firstIndexAtOrAfter(timeMs);
    return this.#entries[index]?.reading.timeMs === timeMs ? index + 1 : index;
  }

  #assertDevice(reading: R): void {
    if (reading.deviceId !== this.deviceId) {
      throw new RangeError(
        `reading of ${reading.deviceId} given to the timeline of ${this.deviceId}`,
      );
    }
  }
}
