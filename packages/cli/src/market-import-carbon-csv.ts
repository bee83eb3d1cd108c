import {
  decimalText,
  inferredResolution,
  isMissingValue,
  isoInstantMs,
  overlapProblems,
  readCsvTable,
  utcText,
} from './market-import-csv.ts';
import type { CsvProblem, SeriesPoint } from './market-import-csv.ts';
import type { ParsedSeries } from './market-import-prices-csv.ts';

/**
 * Grid carbon intensity from a CSV file, in one of two layouts (docs/cost.md, "Importing prices
 * and carbon intensity"):
 *
 * - Electricity Maps' data export: `Datetime (UTC)` (`2024-01-01 00:00:00`), `Zone Id` (`DE`),
 *   and the intensity in `Carbon Intensity gCO₂eq/kWh (direct)` and `(LCA)` (older files) or
 *   `Carbon intensity gCO₂eq/kWh (direct)` and `(Life cycle)` (newer); `--basis` picks one;
 * - a plain `start,gCO2e/kWh` with UTC ISO instants and `--zone`.
 *
 * Hourly or 15-minute: 60 where every start is on a full hour, else 15 (or `--resolution`).
 * Pure: text in, points and problems out.
 */

export interface CarbonPoint extends SeriesPoint {
  readonly gramsPerKWh: string;
}

/** Life-cycle (IPCC) factors, or direct (combustion-only) ones: a series keeps one. */
export type CarbonBasis = 'lca' | 'direct';

export interface CarbonCsvOptions {
  readonly zone?: string | undefined;
  readonly resolutionMinutes?: 15 | 60 | undefined;
  readonly basis?: CarbonBasis | undefined;
}

const INTENSITY_COLUMN = /^carbon intensity gco[₂2]e?q?\/kwh \((direct|lca|life cycle)\)$/i;
const PLAIN_VALUE_COLUMN = /^gco[₂2]e?q?\/kwh$/i;

const normal = (column: string) => column.trim().toLowerCase();

/**
 * The carbon intensity of a CSV text, each bad row a problem naming its line and column. Throws
 * a RangeError for a header of neither layout or an option the layout needs.
 */
export function parseCarbonCsv(
  text: string,
  options: CarbonCsvOptions = {},
): ParsedSeries<CarbonPoint> {
  const { header, rows, problems: unreadable } = readCsvTable(text);
  const problems: CsvProblem[] = [...unreadable];
  const basis = options.basis ?? 'lca';
  let layout: string;
  let timeAt: number;
  let valueAt: number;
  let zoneAt = -1;
  let naiveIsUtc = false;
  if (header.some((c) => normal(c) === 'datetime (utc)')) {
    layout = 'Electricity Maps';
    timeAt = header.findIndex((c) => normal(c) === 'datetime (utc)');
    zoneAt = header.findIndex((c) => normal(c) === 'zone id');
    valueAt = header.findIndex((c) => {
      const kind = INTENSITY_COLUMN.exec(c.trim())?.[1]?.toLowerCase();
      return kind !== undefined && (kind === 'direct' ? 'direct' : 'lca') === basis;
    });
    naiveIsUtc = true;
    if (valueAt === -1)
      throw new RangeError(
        `no ${basis === 'lca' ? 'life-cycle ("(LCA)" or "(Life cycle)")' : 'direct'} carbon intensity column in ${JSON.stringify(header.join(','))}`,
      );
    if (zoneAt === -1 && options.zone === undefined)
      throw new RangeError('the file names no zone (no Zone Id column): give --zone');
  } else if (
    header.length === 2 &&
    normal(header[0] ?? '') === 'start' &&
    PLAIN_VALUE_COLUMN.test(header[1]?.trim() ?? '')
  ) {
    layout = 'start,gCO2e/kWh';
    timeAt = 0;
    valueAt = 1;
    if (options.zone === undefined)
      throw new RangeError('a start,gCO2e/kWh file names no zone: give --zone');
  } else
    throw new RangeError(
      `the header ${JSON.stringify(header.join(','))} is neither Electricity Maps' export ("Datetime (UTC)", "Carbon Intensity gCO₂eq/kWh (LCA)", ...) nor start,gCO2e/kWh`,
    );
  const timeColumn = header[timeAt] ?? 'start';
  const valueColumn = header[valueAt] ?? 'gCO2e/kWh';
  const read: { line: number; zone: string; startMs: number; gramsPerKWh: string }[] = [];
  // Every readable start, a missing or bad value's too: the intervals the file lists.
  const listed: { zone: string; startMs: number }[] = [];
  let missingValues = 0;
  for (const row of rows) {
    const problem = (column: string, message: string) => {
      problems.push({ line: row.line, column, message });
    };
    const zone = zoneAt === -1 ? (options.zone ?? '') : (row.fields[zoneAt] ?? '').trim();
    if (zone === '') {
      problem(header[zoneAt] ?? 'Zone Id', 'no zone');
      continue;
    }
    if (options.zone !== undefined && zone !== options.zone) {
      problem(header[zoneAt] ?? 'Zone Id', `${zone} is not --zone ${options.zone}`);
      continue;
    }
    const rawStart = row.fields[timeAt] ?? '';
    const startMs = isoInstantMs(rawStart, naiveIsUtc);
    if (startMs === undefined) {
      problem(
        timeColumn,
        `${JSON.stringify(rawStart)} is not ${naiveIsUtc ? 'a UTC time like 2026-01-01 00:00:00' : 'an ISO 8601 instant with Z or an offset, e.g. 2026-01-01T00:00:00Z'}`,
      );
      continue;
    }
    listed.push({ zone, startMs });
    const raw = row.fields[valueAt] ?? '';
    if (isMissingValue(raw)) {
      missingValues++;
      continue;
    }
    const grams = decimalText(raw);
    if ('problem' in grams) {
      problem(valueColumn, grams.problem);
      continue;
    }
    if (grams.text.startsWith('-')) {
      problem(valueColumn, `${grams.text}: an intensity is not negative`);
      continue;
    }
    read.push({ line: row.line, zone, startMs, gramsPerKWh: grams.text });
  }
  const resolutionMinutes = options.resolutionMinutes ?? inferredResolution(listed);
  const points: CarbonPoint[] = [];
  for (const r of read) {
    if (r.startMs % (resolutionMinutes * 60_000) !== 0) {
      problems.push({
        line: r.line,
        column: timeColumn,
        message: `${utcText(r.startMs)} is not on a multiple of ${resolutionMinutes} minutes (UTC)`,
      });
      continue;
    }
    points.push({ ...r, resolutionMinutes });
  }
  const overlaps = overlapProblems(points, timeColumn);
  const bad = new Set(overlaps.map((o) => o.line));
  return {
    layout,
    points: points.filter((p) => !bad.has(p.line)),
    missingValues,
    otherSequenceRows: 0,
    problems: [...problems, ...overlaps].sort((a, b) => a.line - b.line),
  };
}
