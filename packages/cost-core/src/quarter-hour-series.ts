import { isLaterPublication } from './publication-order.ts';
import type { PublicationStamp } from './publication-order.ts';

const QUARTER_HOUR_MS = 15 * 60_000;

/** The value in force for one quarter hour of a zone, and the publication it came from. */
export interface SeriesValue<V> {
  readonly value: V;
  readonly publication: PublicationStamp;
}

/**
 * A zone's series per quarter hour, each quarter hour holding the value of the latest
 * publication that covered it. An hourly point covers its four quarter hours; a later
 * 15-minute point for one of them replaces that one only. Applying a publication keeps, per
 * quarter hour, the later of two values: a commutative, associative, idempotent merge, so any
 * order and any repetition of the same publications gives the same series.
 */
export class QuarterHourSeries<V> {
  readonly #byZone = new Map<string, Map<number, SeriesValue<V>>>();

  /** Fold in the points of one publication; returns the quarter hours whose value changed. */
  apply(
    zone: string,
    publication: PublicationStamp,
    resolutionMinutes: 15 | 60,
    points: Iterable<{ readonly startMs: number; readonly value: V }>,
  ): number[] {
    let quarters = this.#byZone.get(zone);
    if (quarters === undefined) {
      quarters = new Map();
      this.#byZone.set(zone, quarters);
    }
    const changed: number[] = [];
    const quartersPerPoint = resolutionMinutes / 15;
    for (const point of points) {
      for (let i = 0; i < quartersPerPoint; i++) {
        const quarterMs = point.startMs + i * QUARTER_HOUR_MS;
        const held = quarters.get(quarterMs);
        if (held === undefined || isLaterPublication(publication, held.publication)) {
          quarters.set(quarterMs, { value: point.value, publication });
          changed.push(quarterMs);
        }
      }
    }
    return changed;
  }

  /** The value in force for the quarter hour starting at `quarterStartMs`, if published. */
  at(zone: string, quarterStartMs: number): SeriesValue<V> | undefined {
    return this.#byZone.get(zone)?.get(quarterStartMs);
  }
}
