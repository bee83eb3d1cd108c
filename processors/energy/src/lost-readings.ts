import { quarterHourStartMs } from '@gridstream/energy-core';

/**
 * How the processor tells that a device's readings are gone from QuestDB (dropped by the
 * readings table's TTL, under this retention or an earlier one) while the energy figures made
 * from them are kept, so that totalling their quarter hours again would overwrite those figures
 * with wrong ones. Pure: the caller reads the tables.
 *
 * A kept figure is made of the intervals between two readings. When a load finds none of the
 * device's readings before `firstHeldMs` from `loadFromMs` on, a figure of a quarter hour in
 * between (one that starts before the first held reading's quarter hour) was made from a reading
 * before that one: a reading QuestDB no longer holds. Without such a figure there was nothing
 * there to lose: a new device's history, however old, is computed as ever.
 */
export interface FigureWindow {
  /** The first quarter hour the load reads. */
  readonly fromMs: number;
  /** The quarter hour of the first held reading (excluded); Infinity when none is held. */
  readonly toMs: number;
}

/** The quarter hours whose kept figures would betray lost readings, for a load from `loadFromMs`. */
export function lostReadingsWindow(
  loadFromMs: number,
  firstHeldMs: number | undefined,
): FigureWindow {
  return {
    fromMs: quarterHourStartMs(loadFromMs),
    toMs: firstHeldMs === undefined ? Number.POSITIVE_INFINITY : quarterHourStartMs(firstHeldMs),
  };
}

/** Whether the device's earliest kept figure from the window's start on lies in the window. */
export function betraysLostReadings(
  window: FigureWindow,
  earliestFigureMs: number | undefined,
): boolean {
  return (
    earliestFigureMs !== undefined &&
    earliestFigureMs >= window.fromMs &&
    earliestFigureMs < window.toMs
  );
}

export interface LostReadings {
  readonly tenant: string;
  readonly deviceId: string;
  readonly readingMs: number;
  /** The earliest kept figure that no held reading explains. */
  readonly figureMs: number;
  /** The readings table's TTL in days, 0 when it keeps everything. */
  readonly ttlDays: number;
}

/** Why a reading is dead-lettered, and what the operator can do about it. */
export function lostReadingsReason(lost: LostReadings): string {
  const { tenant, deviceId, readingMs, figureMs, ttlDays } = lost;
  const retention =
    ttlDays === 0
      ? 'it keeps everything now (GS_RETENTION_READINGS_TABLE_DAYS=0): they went under an earlier retention'
      : `it keeps ${ttlDays} days, GS_RETENTION_READINGS_TABLE_DAYS`;
  return (
    `reading of ${tenant}/${deviceId} at ${new Date(readingMs).toISOString()} cannot be placed: ` +
    `the device's readings around it are gone from QuestDB's readings table (${retention}), ` +
    `while its energy figures from ${new Date(figureMs).toISOString()} on are kept, and ` +
    `totalling them again without those readings would overwrite them with wrong ones. ` +
    `Raising the retention brings nothing back: recompute that span from the readings topic ` +
    `(docs/data-lifecycle.md), and raise the retention before sending readings older than it`
  );
}
