/**
 * A site's energy in one UTC quarter hour, as the energy processor figures it. A late reading
 * makes a new figure for the same quarter hour with a higher `revision` (the position of the
 * figure in its log, e.g. the Kafka offset of the event that carried it).
 */
export interface QuarterHourEnergy {
  readonly startMs: number;
  readonly importWh: number;
  readonly exportWh: number;
  /** Own production used on site; null where the site has no producer metered. */
  readonly selfConsumedWh: number | null;
  readonly revision: number;
}

const QUARTER_HOUR_MS = 15 * 60_000;

function canonical(energy: QuarterHourEnergy): string {
  return `${energy.importWh}|${energy.exportWh}|${energy.selfConsumedWh ?? 'null'}`;
}

/** The later of two figures of the same quarter hour: higher revision, then content. */
function isLaterFigure(a: QuarterHourEnergy, b: QuarterHourEnergy): boolean {
  if (a.revision !== b.revision) return a.revision > b.revision;
  // The same revision twice should be the same figure; if not, a fixed choice keeps the fold
  // independent of arrival order all the same.
  return canonical(a) > canonical(b);
}

function checkFigure(energy: QuarterHourEnergy): void {
  if (energy.startMs % QUARTER_HOUR_MS !== 0) {
    throw new RangeError(
      `a quarter hour starts on a multiple of 15 minutes, got ${energy.startMs}`,
    );
  }
  for (const wh of [energy.importWh, energy.exportWh, energy.selfConsumedWh ?? 0]) {
    if (!Number.isFinite(wh) || wh < 0) {
      throw new RangeError(`energy is a finite, non-negative Wh, got ${wh}`);
    }
  }
}

/** The latest figure per quarter hour of one site: corrections fold in any order. */
export class EnergyBook {
  readonly #byQuarter = new Map<number, QuarterHourEnergy>();

  /** Fold in a figure; true when it replaced what was held (its quarter hour must be redone). */
  apply(energy: QuarterHourEnergy): boolean {
    checkFigure(energy);
    const held = this.#byQuarter.get(energy.startMs);
    if (held !== undefined && !isLaterFigure(energy, held)) return false;
    this.#byQuarter.set(energy.startMs, energy);
    return true;
  }

  /**
   * Holds `energy` for its quarter hour whatever its revision: for a caller that computes the
   * figure afresh from parts it merges itself (the cost processor sums a site's devices). True
   * when it differs from what was held.
   */
  replace(energy: QuarterHourEnergy): boolean {
    const held = this.#byQuarter.get(energy.startMs);
    if (
      held !== undefined &&
      held.revision === energy.revision &&
      canonical(held) === canonical(energy)
    )
      return false;
    checkFigure(energy);
    this.#byQuarter.set(energy.startMs, energy);
    return true;
  }

  at(startMs: number): QuarterHourEnergy | undefined {
    return this.#byQuarter.get(startMs);
  }

  /** Figures in [fromMs, toMs), in time order. */
  between(fromMs: number, toMs: number): QuarterHourEnergy[] {
    return [...this.#byQuarter.values()]
      .filter((energy) => energy.startMs >= fromMs && energy.startMs < toMs)
      .sort((a, b) => a.startMs - b.startMs);
  }
}
