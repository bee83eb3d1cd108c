import {
  decimalText,
  inferredResolution,
  isMissingValue,
  isoInstantMs,
  overlapProblems,
  readCsvTable,
  utcText,
} from './market-import-csv.ts';
import type { CsvProblem, CsvRow, SeriesPoint } from './market-import-csv.ts';
import {
  HEADER_TIME_ZONES,
  instantsOfWallTime,
  OFFSET_MARKERS,
} from './market-import-local-time.ts';

/**
 * Day-ahead prices from a CSV file, in one of two layouts (docs/cost.md, "Importing prices and
 * carbon intensity"):
 *
 * - the ENTSO-E Transparency Platform's export: an interval column `MTU (CET/CEST)` (or
 *   `(UTC)`, `(EET/EEST)`, `(WET/WEST)`; older files `(CET)`) holding `start - end` in that
 *   zone's wall time, `dd.mm.yyyy HH:MM` (older) or `dd/mm/yyyy HH:MM:SS` (current), a time on a
 *   DST-change day possibly marked `(CET)` or `(CEST)`; a price column `Day-ahead Price
 *   [EUR/MWh]` (older) or `Day-ahead Price (EUR/MWh)` (current); optionally `Currency`, `Area`
 *   (`BZN|DE-LU`), `Sequence`, and in older files an empty column headed with the zone
 *   (`BZN|DE-LU`). Other columns (intraday) are ignored;
 * - a plain `start,price` with UTC ISO instants, the zone and currency given as options.
 *
 * Pure: text in, points and problems out.
 */

export interface PricePoint extends SeriesPoint {
  readonly currency: string;
  readonly pricePerMWh: string;
}

export interface ParsedSeries<P> {
  readonly layout: string;
  readonly points: readonly P[];
  /** Rows whose value is missing (`-`, `n/e`, `n/a`, empty): skipped, never 0. */
  readonly missingValues: number;
  /** Rows of another auction than the main one (ENTSO-E's `Sequence 2` and up). */
  readonly otherSequenceRows: number;
  readonly problems: readonly CsvProblem[];
}

export interface PriceCsvOptions {
  readonly zone?: string | undefined;
  readonly currency?: string | undefined;
  readonly resolutionMinutes?: 15 | 60 | undefined;
}

const TIME_COLUMN = /^(?:MTU|Time)\s*\(([^)]+)\)$/i;
const PRICE_COLUMN = /^Day-ahead Price\s*[[(]([A-Za-z]{3})\/MWh[\])]$/i;
const ZONE_HEADER = /^[A-Z]{2,3}\|(.+)$/;

/** `BZN|DE-LU` → `DE-LU`: the zone as gridstream names it (ENTSO-E's short name). */
function zoneOfArea(area: string): string {
  const text = area.trim();
  const bar = text.lastIndexOf('|');
  return bar === -1 ? text : text.slice(bar + 1);
}

const MTU_TIME =
  /^(\d{2})[./](\d{2})[./](\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?(?:\s*\(([A-Z]{3,4})\))?$/;

interface WallTime {
  readonly wallMs: number;
  /** The offset a `(CEST)`-like mark gives, in minutes. */
  readonly markedOffset?: number;
}

function wallTime(text: string): WallTime | string {
  const match = MTU_TIME.exec(text.trim());
  if (match === null) return `${JSON.stringify(text.trim())} is not a time like 01.01.2026 00:00`;
  const [, day, month, year, hour, minute, second = '00', mark] = match;
  const wallMs = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  const check = new Date(wallMs);
  if (
    check.getUTCDate() !== Number(day) ||
    check.getUTCMonth() !== Number(month) - 1 ||
    check.getUTCHours() !== Number(hour) ||
    Number(minute) > 59
  )
    return `${JSON.stringify(text.trim())} is not a date and time`;
  if (mark === undefined) return { wallMs };
  const markedOffset = OFFSET_MARKERS[mark];
  if (markedOffset === undefined) return `${JSON.stringify(text.trim())}: unknown mark (${mark})`;
  return { wallMs, markedOffset };
}

/** The instant a marked wall time names, if the zone has that offset then. */
function markedInstant(timeZone: string, time: WallTime): number | undefined {
  if (time.markedOffset === undefined) return undefined;
  const instantMs = time.wallMs - time.markedOffset * 60_000;
  return instantsOfWallTime(timeZone, time.wallMs).includes(instantMs) ? instantMs : undefined;
}

interface ResolvedInterval {
  readonly startMs: number;
  readonly resolutionMinutes: 15 | 60;
}

/**
 * An MTU `start - end` in a zone's wall time as a UTC interval. A start the fall-back hour has
 * twice and no mark names is the first of the two not yet used by an earlier row of the same
 * zone and auction (`taken`): the exports list the summer-time pass first.
 */
function resolveMtu(
  mtu: string,
  timeZone: string,
  zoneLabel: string,
  taken: Set<number>,
): ResolvedInterval | string {
  const parts = mtu.split(' - ');
  if (parts.length !== 2)
    return `${JSON.stringify(mtu)} is not an interval "start - end" (e.g. "01.01.2026 00:00 - 01.01.2026 01:00")`;
  const start = wallTime(parts[0] ?? '');
  if (typeof start === 'string') return start;
  const end = wallTime(parts[1] ?? '');
  if (typeof end === 'string') return end;
  let startMs: number | undefined;
  if (start.markedOffset !== undefined) {
    startMs = markedInstant(timeZone, start);
    if (startMs === undefined)
      return `${parts[0]?.trim()} is not a time of ${zoneLabel} with that offset`;
  } else {
    const candidates = instantsOfWallTime(timeZone, start.wallMs);
    if (candidates.length === 0)
      return `${parts[0]?.trim()} does not exist in ${zoneLabel} (the clocks skip it)`;
    startMs = candidates.find((c) => !taken.has(c)) ?? candidates[candidates.length - 1];
  }
  if (startMs === undefined) return `${parts[0]?.trim()}: no instant`;
  let lengthMinutes: number;
  if (end.markedOffset !== undefined) {
    const endMs = markedInstant(timeZone, end);
    if (endMs === undefined)
      return `${parts[1]?.trim()} is not a time of ${zoneLabel} with that offset`;
    lengthMinutes = (endMs - startMs) / 60_000;
  } else {
    // Unmarked: the wall-clock length, unless that crosses a clock change (01:45 - 03:00 on a
    // spring-forward day is 15 minutes); then the first instant of the end after the start.
    lengthMinutes = (end.wallMs - start.wallMs) / 60_000;
    if (lengthMinutes !== 15 && lengthMinutes !== 60) {
      const startAt = startMs;
      const endMs = instantsOfWallTime(timeZone, end.wallMs).find((c) => c > startAt);
      if (endMs !== undefined) lengthMinutes = (endMs - startMs) / 60_000;
    }
  }
  if (lengthMinutes !== 15 && lengthMinutes !== 60)
    return `an MTU of ${lengthMinutes} minutes (${mtu.trim()}): only 15- and 60-minute prices can be published`;
  if (startMs % (lengthMinutes * 60_000) !== 0)
    return `a ${lengthMinutes}-minute MTU that starts at ${utcText(startMs)}, not on a multiple of ${lengthMinutes} minutes in UTC`;
  taken.add(startMs);
  return { startMs, resolutionMinutes: lengthMinutes };
}

/** The main auction's label: `Without Sequence` where a zone has it, else the lowest number. */
function mainSequence(labels: ReadonlySet<string>): string {
  if (labels.has('Without Sequence')) return 'Without Sequence';
  const number = (label: string) => Number(/\d+/.exec(label)?.[0] ?? Infinity);
  return [...labels].sort((a, b) => number(a) - number(b) || a.localeCompare(b))[0] ?? '';
}

function columnIndex(header: readonly string[], test: (column: string) => boolean): number {
  return header.findIndex(test);
}

function parseEntsoe(
  header: readonly string[],
  rows: readonly CsvRow[],
  problems: CsvProblem[],
  options: PriceCsvOptions,
): ParsedSeries<PricePoint> {
  const timeAt = columnIndex(header, (c) => TIME_COLUMN.test(c));
  const priceAt = columnIndex(header, (c) => PRICE_COLUMN.test(c));
  const timeColumn = header[timeAt] ?? '';
  const priceColumn = header[priceAt] ?? '';
  const zoneLabel = (TIME_COLUMN.exec(timeColumn)?.[1] ?? '').toUpperCase().replace(/\s+/g, '');
  // Older exports head the column "MTU (CET)" for the same CET/CEST wall time (not verified
  // against a file of a DST-change day; see docs/cost.md).
  const timeZone = HEADER_TIME_ZONES[zoneLabel === 'CET' ? 'CET/CEST' : zoneLabel];
  if (timeZone === undefined)
    throw new RangeError(
      `${timeColumn}: times in ${zoneLabel} cannot be read (${Object.keys(HEADER_TIME_ZONES).join(', ')})`,
    );
  const headerCurrency = (PRICE_COLUMN.exec(priceColumn)?.[1] ?? '').toUpperCase();
  const currencyAt = columnIndex(header, (c) => c.toLowerCase() === 'currency');
  const areaAt = columnIndex(header, (c) => c.toLowerCase() === 'area');
  const sequenceAt = columnIndex(header, (c) => c.toLowerCase() === 'sequence');
  const headerZoneColumn = header.find((c) => ZONE_HEADER.test(c));
  const headerZone = headerZoneColumn === undefined ? undefined : zoneOfArea(headerZoneColumn);
  if (areaAt === -1 && headerZone === undefined && options.zone === undefined)
    throw new RangeError('the file names no bidding zone (no Area column): give --zone');
  if (headerZone !== undefined && options.zone !== undefined && headerZone !== options.zone)
    throw new RangeError(`the file is of ${headerZone}, not --zone ${options.zone}`);
  const zoneOfRow = (row: CsvRow) =>
    areaAt === -1 ? (headerZone ?? options.zone ?? '') : zoneOfArea(row.fields[areaAt] ?? '');

  const sequencesByZone = new Map<string, Set<string>>();
  if (sequenceAt !== -1)
    for (const row of rows) {
      const zone = zoneOfRow(row);
      const labels = sequencesByZone.get(zone) ?? new Set<string>();
      labels.add((row.fields[sequenceAt] ?? '').trim());
      sequencesByZone.set(zone, labels);
    }
  const mainByZone = new Map(
    [...sequencesByZone].map(([zone, labels]) => [zone, mainSequence(labels)]),
  );

  const points: PricePoint[] = [];
  const takenByZone = new Map<string, Set<number>>();
  let missingValues = 0;
  let otherSequenceRows = 0;
  for (const row of rows) {
    const zone = zoneOfRow(row);
    if (sequenceAt !== -1 && (row.fields[sequenceAt] ?? '').trim() !== mainByZone.get(zone)) {
      otherSequenceRows++;
      continue;
    }
    const problem = (column: string, message: string) => {
      problems.push({ line: row.line, column, message });
    };
    if (zone === '') {
      problem(header[areaAt] ?? 'Area', 'no bidding zone');
      continue;
    }
    if (options.zone !== undefined && zone !== options.zone) {
      problem(header[areaAt] ?? 'Area', `${zone} is not --zone ${options.zone}`);
      continue;
    }
    const taken = takenByZone.get(zone) ?? new Set<number>();
    takenByZone.set(zone, taken);
    const interval = resolveMtu(row.fields[timeAt] ?? '', timeZone, zoneLabel, taken);
    if (typeof interval === 'string') {
      problem(timeColumn, interval);
      continue;
    }
    const rowCurrency = currencyAt === -1 ? '' : (row.fields[currencyAt] ?? '').trim();
    const currency = rowCurrency === '' ? headerCurrency : rowCurrency.toUpperCase();
    if (rowCurrency !== '' && rowCurrency.toUpperCase() !== headerCurrency) {
      problem(
        header[currencyAt] ?? 'Currency',
        `${rowCurrency}, but the price column is in ${headerCurrency}`,
      );
      continue;
    }
    if (options.currency !== undefined && currency !== options.currency) {
      problem(priceColumn, `prices in ${currency}, not --currency ${options.currency}`);
      continue;
    }
    const raw = row.fields[priceAt] ?? '';
    if (isMissingValue(raw)) {
      missingValues++;
      continue;
    }
    const price = decimalText(raw);
    if ('problem' in price) {
      problem(priceColumn, price.problem);
      continue;
    }
    points.push({ line: row.line, zone, currency, ...interval, pricePerMWh: price.text });
  }
  return { layout: 'ENTSO-E', points, missingValues, otherSequenceRows, problems };
}

function parsePlain(
  header: readonly string[],
  rows: readonly CsvRow[],
  problems: CsvProblem[],
  options: PriceCsvOptions,
): ParsedSeries<PricePoint> {
  const { zone, currency } = options;
  if (zone === undefined || currency === undefined)
    throw new RangeError(
      'a start,price file names neither zone nor currency: give --zone and --currency',
    );
  const startAt = header.findIndex((c) => c.toLowerCase() === 'start');
  const priceAt = header.findIndex((c) => c.toLowerCase() === 'price');
  const read: { line: number; startMs: number; pricePerMWh: string }[] = [];
  // Every readable start, a missing or bad price's too: the intervals the file lists.
  const listed: { zone: string; startMs: number }[] = [];
  let missingValues = 0;
  for (const row of rows) {
    const rawStart = row.fields[startAt] ?? '';
    const startMs = isoInstantMs(rawStart, false);
    if (startMs !== undefined) listed.push({ zone, startMs });
    if (startMs === undefined) {
      problems.push({
        line: row.line,
        column: header[startAt] ?? 'start',
        message: `${JSON.stringify(rawStart)} is not an ISO 8601 instant with Z or an offset, e.g. 2026-01-01T00:00:00Z`,
      });
      continue;
    }
    const raw = row.fields[priceAt] ?? '';
    if (isMissingValue(raw)) {
      missingValues++;
      continue;
    }
    const price = decimalText(raw);
    if ('problem' in price) {
      problems.push({ line: row.line, column: header[priceAt] ?? 'price', message: price.problem });
      continue;
    }
    read.push({ line: row.line, startMs, pricePerMWh: price.text });
  }
  const resolutionMinutes = options.resolutionMinutes ?? inferredResolution(listed);
  const points: PricePoint[] = [];
  for (const r of read) {
    if (r.startMs % (resolutionMinutes * 60_000) !== 0) {
      problems.push({
        line: r.line,
        column: header[startAt] ?? 'start',
        message: `${utcText(r.startMs)} is not on a multiple of ${resolutionMinutes} minutes (UTC)`,
      });
      continue;
    }
    points.push({ ...r, zone, currency, resolutionMinutes });
  }
  return { layout: 'start,price', points, missingValues, otherSequenceRows: 0, problems };
}

/**
 * The prices of a CSV text, each bad row a problem naming its line and column (nothing is
 * dropped silently: missing values are counted, other auctions counted). Throws a RangeError
 * for a header of neither layout or an option the layout needs.
 */
export function parsePriceCsv(
  text: string,
  options: PriceCsvOptions = {},
): ParsedSeries<PricePoint> {
  const table = readCsvTable(text);
  const problems = [...table.problems];
  const { header } = table;
  let parsed: ParsedSeries<PricePoint>;
  if (header.some((c) => TIME_COLUMN.test(c)) && header.some((c) => PRICE_COLUMN.test(c)))
    parsed = parseEntsoe(header, table.rows, problems, options);
  else if (
    header.length === 2 &&
    header.some((c) => c.toLowerCase() === 'start') &&
    header.some((c) => c.toLowerCase() === 'price')
  )
    parsed = parsePlain(header, table.rows, problems, options);
  else
    throw new RangeError(
      `the header ${JSON.stringify(header.join(','))} is neither an ENTSO-E day-ahead price export ("MTU (CET/CEST)", "Day-ahead Price [EUR/MWh]", ...) nor start,price`,
    );
  const timeColumn =
    header.find((c) => TIME_COLUMN.test(c)) ?? header.find((c) => c.toLowerCase() === 'start');
  const overlaps = overlapProblems(parsed.points, timeColumn ?? 'start');
  const bad = new Set(overlaps.map((o) => o.line));
  return {
    ...parsed,
    points: parsed.points.filter((p) => !bad.has(p.line)),
    problems: [...problems, ...overlaps].sort((a, b) => a.line - b.line),
  };
}
