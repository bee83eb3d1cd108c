import type { StoredReading } from '@gridstream/questdb';
import type {
  DeviceBucketTotal,
  DeviceTimeline,
  InsertOutcome,
  ReadingDelta,
} from '@gridstream/energy-core';

export type StoredTimeline = DeviceTimeline<StoredReading>;
export type PlacedOutcome = Exclude<InsertOutcome<StoredReading>, { status: 'before_horizon' }>;

export interface QuarterHourResult {
  readonly tenant: string;
  readonly total: DeviceBucketTotal;
  /**
   * The device has reported at or after the quarter hour's end, and no open counter span reaches
   * into it: the total is final until late data.
   */
  readonly closed: boolean;
}

/**
 * What one batch of readings changed: the reading rows to write (each once, with its latest
 * delta) and the quarter hours to total. A quarter hour is totalled once per batch, at its end,
 * however many of the batch's readings touched it; or earlier, when the timeline that holds it
 * is about to be dropped (`settle`). Totals settled later win, so a timeline reloaded in the
 * middle of the batch overrides what the dropped one said.
 */
export class EnergyBatch {
  /** Per tenant and device, each changed reading's latest delta by its time: no key made a reading. */
  readonly #rows = new Map<string, Map<string, Map<number, ReadingDelta<StoredReading>>>>();
  readonly #pending = new Map<StoredTimeline, { tenant: string; startsMs: Set<number> }>();
  readonly #quarterHours = new Map<string, QuarterHourResult>();

  record(tenant: string, timeline: StoredTimeline, outcome: PlacedOutcome): void {
    for (const delta of outcome.readingDeltas) {
      const { reading } = delta;
      let byDevice = this.#rows.get(reading.tenant);
      if (byDevice === undefined) {
        byDevice = new Map();
        this.#rows.set(reading.tenant, byDevice);
      }
      let byTime = byDevice.get(reading.deviceId);
      if (byTime === undefined) {
        byTime = new Map();
        byDevice.set(reading.deviceId, byTime);
      }
      byTime.set(reading.timeMs, delta);
    }
    if (outcome.quarterHourStartsMs.length === 0) return;
    let pending = this.#pending.get(timeline);
    if (pending === undefined) {
      pending = { tenant, startsMs: new Set() };
      this.#pending.set(timeline, pending);
    }
    for (const startMs of outcome.quarterHourStartsMs) pending.startsMs.add(startMs);
  }

  /** Totals now what the batch changed in `timeline`. */
  settle(timeline: StoredTimeline): void {
    const pending = this.#pending.get(timeline);
    if (pending === undefined) return;
    this.#pending.delete(timeline);
    // Closed: the device reported past the quarter hour's end, and no counter span still open
    // reaches into it (its closing counter reading would change the quarter hour again).
    const settledMs = timeline.settledMs ?? -Infinity;
    for (const startMs of pending.startsMs) {
      const total = timeline.quarterHour(startMs);
      this.#quarterHours.set(`${pending.tenant}/${timeline.deviceId}/${startMs}`, {
        tenant: pending.tenant,
        total,
        closed: total.endMs <= settledMs,
      });
    }
  }

  /** The reading rows recorded since the last call, to be written. */
  takeRows(): ReadingDelta<StoredReading>[] {
    const rows: ReadingDelta<StoredReading>[] = [];
    for (const byDevice of this.#rows.values())
      for (const byTime of byDevice.values()) for (const delta of byTime.values()) rows.push(delta);
    this.#rows.clear();
    return rows;
  }

  /** Totals every changed quarter hour, lets each timeline evict, and returns the totals. */
  finish(): QuarterHourResult[] {
    for (const timeline of [...this.#pending.keys()]) {
      this.settle(timeline);
      timeline.evict();
    }
    return [...this.#quarterHours.values()];
  }
}
