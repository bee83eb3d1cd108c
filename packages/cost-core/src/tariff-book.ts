import { isLaterPublication } from './publication-order.ts';
import type { TariffVersion } from '@gridstream/events';

/** A tariff version with its instants parsed once. */
export interface TariffVersionInForce {
  readonly version: TariffVersion;
  readonly effectiveFromMs: number;
  readonly publishedAtMs: number;
}

/** [fromMs, toMs): `toMs` is Infinity for the last version, in force until a next one. */
export interface InstantRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * A site's tariff versions. The version in force at an instant is the one with the greatest
 * `effectiveFrom` at or before it; two versions with the same `effectiveFrom` are one slot, held
 * by the later publication. Both rules are orders on the versions' own fields, so the versions
 * can be applied in any order, repeated, and give the same book.
 */
export class TariffBook {
  readonly #byEffectiveFrom = new Map<number, TariffVersionInForce>();
  #sortedStarts: number[] = [];

  /** Fold in a version; returns the instants whose version changed (empty if none did). */
  apply(version: TariffVersion): InstantRange | null {
    const entry: TariffVersionInForce = {
      version,
      effectiveFromMs: Date.parse(version.effectiveFrom),
      publishedAtMs: Date.parse(version.publishedAt),
    };
    const held = this.#byEffectiveFrom.get(entry.effectiveFromMs);
    if (
      held !== undefined &&
      !isLaterPublication(
        { publishedAtMs: entry.publishedAtMs, id: version.id },
        { publishedAtMs: held.publishedAtMs, id: held.version.id },
      )
    ) {
      return null;
    }
    this.#byEffectiveFrom.set(entry.effectiveFromMs, entry);
    if (held === undefined) {
      this.#sortedStarts = [...this.#byEffectiveFrom.keys()].sort((a, b) => a - b);
    }
    return this.rangeOf(entry.effectiveFromMs);
  }

  /** The instants a version starting at `effectiveFromMs` governs: up to the next version. */
  rangeOf(effectiveFromMs: number): InstantRange {
    const next = this.#sortedStarts.find((startMs) => startMs > effectiveFromMs);
    return { fromMs: effectiveFromMs, toMs: next ?? Infinity };
  }

  /** The version in force at `instantMs`, or undefined before the first one. */
  at(instantMs: number): TariffVersionInForce | undefined {
    const starts = this.#sortedStarts;
    let low = 0;
    let high = starts.length - 1;
    let found: number | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const startMs = starts[middle] ?? Infinity;
      if (startMs <= instantMs) {
        found = startMs;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found === undefined ? undefined : this.#byEffectiveFrom.get(found);
  }

  versions(): TariffVersionInForce[] {
    return this.#sortedStarts.flatMap((startMs) => {
      const entry = this.#byEffectiveFrom.get(startMs);
      return entry === undefined ? [] : [entry];
    });
  }
}
