import { counterDeltaWh } from './counter-delta.ts';
import { totalPowerW } from './energy-reading.ts';
import type { EnergyReading } from './energy-reading.ts';
import { intervalEnergy } from './interval-energy.ts';
import type { IntervalEnergy, IntervalFlag } from './interval-energy.ts';
import { phaseEnergy } from './phase-energy.ts';
import { trapezoidEnergyWh } from './power-integration.ts';
import { worstQuality } from './quality.ts';
import type { EnergySettings } from './settings.ts';

/**
 * The counter rule (docs/energy.md, "Counter spans"). For each direction, two consecutive
 * readings that carry its counter (anchors) bound a span; the energy of the intervals between
 * them in that direction adds up to the counter delta, whatever readings lie between. Readings
 * between only shape the split: in proportion to the power each interval integrates (trapezoid,
 * in that direction), or to time when power gives nothing. A span counts when it is one
 * interval (as before: counters on both sides) or at most `maxCounterSpanMs` long.
 */

export type Direction = 'import' | 'export';
const DIRECTIONS: readonly Direction[] = ['import', 'export'];

export function counterOf(reading: EnergyReading, direction: Direction): number | undefined {
  return direction === 'import' ? reading.importWh : reading.exportWh;
}

type Readings = readonly EnergyReading[];

function timeAt(readings: Readings, index: number): number {
  const reading = readings[index];
  if (reading === undefined) throw new RangeError(`no reading at ${index}`);
  return reading.timeMs;
}

function isAnchor(readings: Readings, index: number, direction: Direction): boolean {
  const reading = readings[index];
  return reading !== undefined && counterOf(reading, direction) !== undefined;
}

/** Whether anchors `a` < `b` (consecutive) bound a span whose delta is split between them. */
function spanCounts(readings: Readings, a: number, b: number, settings: EnergySettings): boolean {
  return b === a + 1 || timeAt(readings, b) - timeAt(readings, a) <= settings.maxCounterSpanMs;
}

/**
 * The last anchor at or before `index` that could bound a counting span with an anchor after
 * `index`: none farther back than the span limit (unless it is `index` itself).
 */
function anchorBefore(
  readings: Readings,
  index: number,
  direction: Direction,
  settings: EnergySettings,
): number | undefined {
  const afterMs = timeAt(readings, index + 1);
  for (let k = index; k >= 0; k--) {
    if (k < index && afterMs - timeAt(readings, k) > settings.maxCounterSpanMs) return undefined;
    if (isAnchor(readings, k, direction)) return k;
  }
  return undefined;
}

/**
 * Per interval index, its share of a span's delta in one direction, and the change flags.
 * Created only when a span is split: a device without counters allocates nothing per reading.
 */
interface DirectionShares {
  readonly wh: Map<number, number>;
  readonly flags: Map<number, IntervalFlag>;
}

const newShares = (): DirectionShares => ({ wh: new Map(), flags: new Map() });

/**
 * The power of each reading of [a, b] for weighting: the reading's own, or interpolated in time
 * between the nearest readings of the span that have one, or the nearest one's on an edge.
 * Undefined when no reading of the span reports power.
 */
function spanPowersW(readings: Readings, a: number, b: number): number[] | undefined {
  const known: (number | undefined)[] = [];
  for (let k = a; k <= b; k++) {
    const reading = readings[k];
    known.push(reading === undefined ? undefined : totalPowerW(reading));
  }
  if (known.every((p) => p === undefined)) return undefined;
  const powers: number[] = [];
  for (let i = 0; i < known.length; i++) {
    const own = known[i];
    if (own !== undefined) {
      powers.push(own);
      continue;
    }
    let before = i - 1;
    while (before >= 0 && known[before] === undefined) before--;
    let after = i + 1;
    while (after < known.length && known[after] === undefined) after++;
    const beforeW = known[before];
    const afterW = known[after];
    if (beforeW !== undefined && afterW !== undefined) {
      const fromMs = timeAt(readings, a + before);
      const share = (timeAt(readings, a + i) - fromMs) / (timeAt(readings, a + after) - fromMs);
      powers.push(beforeW + (afterW - beforeW) * share);
    } else powers.push(beforeW ?? afterW ?? 0);
  }
  return powers;
}

/** Splits the delta of the span (a, b] over its intervals, into `shares`. */
function splitSpan(
  readings: Readings,
  a: number,
  b: number,
  direction: Direction,
  settings: EnergySettings,
  shares: DirectionShares,
): DirectionShares {
  const startReading = readings[a];
  const endReading = readings[b];
  const startWh = startReading && counterOf(startReading, direction);
  const endWh = endReading && counterOf(endReading, direction);
  if (startWh === undefined || endWh === undefined) throw new RangeError('a span needs anchors');
  const delta = counterDeltaWh(startWh, endWh, settings.counterRollover);
  if (delta.change !== 'increase') shares.flags.set(b, `${direction}_${delta.change}`);
  if (b === a + 1) {
    shares.wh.set(b, delta.deltaWh);
    return shares;
  }
  const powers = spanPowersW(readings, a, b);
  const weights: number[] = [];
  let totalWeight = 0;
  if (powers !== undefined) {
    for (let i = a + 1; i <= b; i++) {
      const energy = trapezoidEnergyWh(
        powers[i - 1 - a] ?? 0,
        powers[i - a] ?? 0,
        timeAt(readings, i) - timeAt(readings, i - 1),
      );
      const weight = direction === 'import' ? energy.importWh : energy.exportWh;
      weights.push(weight);
      totalWeight += weight;
    }
  }
  const spanMs = timeAt(readings, b) - timeAt(readings, a);
  const byPower = totalWeight > 0 && Number.isFinite(totalWeight);
  for (let i = a + 1; i <= b; i++) {
    const share = byPower
      ? (weights[i - 1 - a] ?? 0) / totalWeight
      : (timeAt(readings, i) - timeAt(readings, i - 1)) / spanMs;
    shares.wh.set(i, delta.deltaWh * share);
  }
  return shares;
}

/** The shares, in one direction, of every span that overlaps the intervals first..last. */
function directionShares(
  readings: Readings,
  first: number,
  last: number,
  direction: Direction,
  settings: EnergySettings,
): DirectionShares | undefined {
  let shares: DirectionShares | undefined;
  let a = anchorBefore(readings, first - 1, direction, settings);
  for (let k = (a ?? first - 1) + 1; k < readings.length; k++) {
    if (isAnchor(readings, k, direction)) {
      if (a !== undefined && spanCounts(readings, a, k, settings))
        shares = splitSpan(readings, a, k, direction, settings, shares ?? newShares());
      a = k;
      if (k >= last) break;
    } else if (k >= last) {
      // Past the last interval with no anchor yet: only a span close enough still counts.
      if (a === undefined || timeAt(readings, k) - timeAt(readings, a) > settings.maxCounterSpanMs)
        break;
    }
  }
  return shares;
}

/**
 * The energy of the intervals ending at `first`..`last` of readings in time order (distinct
 * instants), each with its interval from the reading before. Spans are looked up in the whole
 * array, so a caller holding only part of a device's readings must hold whole spans
 * (`isSpanBoundary`).
 */
export function spanIntervals(
  readings: Readings,
  settings: EnergySettings,
  first = 1,
  last = readings.length - 1,
): IntervalEnergy[] {
  if (first < 1) throw new RangeError('the first reading has no interval');
  if (last < first) return [];
  const importShares = directionShares(readings, first, last, 'import', settings);
  const exportShares = directionShares(readings, first, last, 'export', settings);
  const intervals: IntervalEnergy[] = [];
  for (let i = first; i <= last; i++) {
    const previous = readings[i - 1];
    const next = readings[i];
    if (previous === undefined || next === undefined) throw new RangeError(`no reading at ${i}`);
    intervals.push(
      intervalOfShares(
        previous,
        next,
        settings,
        importShares?.wh.get(i),
        exportShares?.wh.get(i),
        importShares?.flags.get(i),
        exportShares?.flags.get(i),
      ),
    );
  }
  return intervals;
}

/**
 * The interval from `previous` to `next` given each direction's share of a span's delta (none:
 * no span covers it in that direction; neither: the interval's own energy from its readings).
 */
function intervalOfShares(
  previous: EnergyReading,
  next: EnergyReading,
  settings: EnergySettings,
  importWh: number | undefined,
  exportWh: number | undefined,
  importFlag: IntervalFlag | undefined,
  exportFlag: IntervalFlag | undefined,
): IntervalEnergy {
  if (importWh === undefined && exportWh === undefined)
    return intervalEnergy(previous, next, settings);
  const durationMs = next.timeMs - previous.timeMs;
  const isGap = durationMs > settings.maxIntegrationGapMs;
  const flags: IntervalFlag[] = isGap ? ['gap'] : [];
  if (importFlag !== undefined) flags.push(importFlag);
  if (exportFlag !== undefined) flags.push(exportFlag);
  return {
    startMs: previous.timeMs,
    endMs: next.timeMs,
    importWh: importWh ?? 0,
    exportWh: exportWh ?? 0,
    method: 'counter',
    flags: flags.length === 0 ? NO_FLAGS : flags.sort(),
    quality: worstQuality(previous.quality, next.quality),
    phases: isGap ? undefined : phaseEnergy(previous, next, durationMs),
  };
}

/**
 * The interval ending at the newest reading `readings[last]`, when `affectedRange` of it is
 * [last - 1, last]: in each direction the reading before it is an anchor or no anchor lies within
 * the span limit before it, so the only span that can cover the interval is the two readings'
 * own (both anchors). Equal to `spanIntervals(readings, settings, last, last)[0]`, without
 * searching for spans: the usual reading of a meter, appended in order.
 */
export function appendedInterval(
  readings: Readings,
  last: number,
  settings: EnergySettings,
): IntervalEnergy {
  const previous = readings[last - 1];
  const next = readings[last];
  if (previous === undefined || next === undefined || last !== readings.length - 1)
    throw new RangeError(`no appended reading at ${last}`);
  let importWh: number | undefined;
  let exportWh: number | undefined;
  let importFlag: IntervalFlag | undefined;
  let exportFlag: IntervalFlag | undefined;
  if (previous.importWh !== undefined && next.importWh !== undefined) {
    const delta = counterDeltaWh(previous.importWh, next.importWh, settings.counterRollover);
    importWh = delta.deltaWh;
    if (delta.change !== 'increase') importFlag = `import_${delta.change}`;
  }
  if (previous.exportWh !== undefined && next.exportWh !== undefined) {
    const delta = counterDeltaWh(previous.exportWh, next.exportWh, settings.counterRollover);
    exportWh = delta.deltaWh;
    if (delta.change !== 'increase') exportFlag = `export_${delta.change}`;
  }
  return intervalOfShares(previous, next, settings, importWh, exportWh, importFlag, exportFlag);
}

const NO_FLAGS: readonly IntervalFlag[] = Object.freeze([]);

/**
 * The readings whose intervals change when the reading at `index` is added or changed: from the
 * anchor before it to the anchor after it, in each direction, when they could bound a counting
 * span with it between; at least its neighbours. Returns [lo, hi]: the intervals ending at
 * lo + 1 .. hi change.
 */
export function affectedRange(
  readings: Readings,
  index: number,
  settings: EnergySettings,
): [lo: number, hi: number] {
  const atMs = timeAt(readings, index);
  let lo = Math.max(0, index - 1);
  let hi = Math.min(readings.length - 1, index + 1);
  for (const direction of DIRECTIONS) {
    for (let k = index - 1; k >= 0; k--) {
      if (k < index - 1 && atMs - timeAt(readings, k) > settings.maxCounterSpanMs) break;
      if (isAnchor(readings, k, direction)) {
        lo = Math.min(lo, k);
        break;
      }
    }
    for (let k = index + 1; k < readings.length; k++) {
      if (k > index + 1 && timeAt(readings, k) - atMs > settings.maxCounterSpanMs) break;
      if (isAnchor(readings, k, direction)) {
        hi = Math.max(hi, k);
        break;
      }
    }
  }
  return [lo, hi];
}

/**
 * Whether no interval after the reading at `index` depends on a reading before it, so what is
 * before may be dropped (eviction) or was never loaded (a rebuild from recent history). True
 * when, in each direction, the reading is an anchor, or the last anchor before it is at least
 * the span limit earlier (so no span from it can count any more), or there is none: none held
 * and `unknownBeforeMs` (readings before it were not loaded) is at least the limit earlier.
 */
export function isSpanBoundary(
  readings: Readings,
  index: number,
  settings: EnergySettings,
  unknownBeforeMs: number,
): boolean {
  const atMs = timeAt(readings, index);
  for (const direction of DIRECTIONS) {
    if (isAnchor(readings, index, direction)) continue;
    let settled = atMs - unknownBeforeMs >= settings.maxCounterSpanMs;
    for (let k = index - 1; k >= 0; k--) {
      if (atMs - timeAt(readings, k) >= settings.maxCounterSpanMs) {
        settled = true;
        break;
      }
      if (isAnchor(readings, k, direction)) {
        settled = false;
        break;
      }
    }
    if (!settled) return false;
  }
  return true;
}
