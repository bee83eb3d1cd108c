import { parse as parseCsv } from 'csv-parse/sync';

/**
 * Reading the CSV files of `gridstream prices import` and `carbon import`: one physical line a
 * row (no field of these layouts spans lines), so a malformed line is reported alone with its
 * number. Pure: text in, rows and problems out.
 */

/** Why one row cannot be used: its line (the header is line 1 of a file that starts with it). */
export interface CsvProblem {
  readonly line: number;
  /** The column as the header names it, or "(line)" when the line as a whole is wrong. */
  readonly column: string;
  readonly message: string;
}

export interface CsvRow {
  readonly line: number;
  readonly fields: readonly string[];
}

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly CsvRow[];
  readonly problems: readonly CsvProblem[];
}

/** A line's fields with one delimiter; throws on a line csv-parse cannot read. */
function fieldsOf(line: string, delimiter: string): string[] {
  const rows: string[][] = parseCsv(line, { delimiter, relax_column_count: true });
  return rows[0] ?? [];
}

/**
 * Some ENTSO-E exports (seen in 2025) wrap each line in one more pair of quotes, the inner ones
 * doubled: `"MTU (CET/CEST),""Area"",..."`. Read as CSV, such a line is one field holding the
 * real line, which is read again.
 */
function unwrapped(fields: string[], delimiter: string): string[] {
  const [only] = fields;
  return fields.length === 1 && only !== undefined && only.includes(delimiter)
    ? fieldsOf(only, delimiter)
    : fields;
}

/** ',' or ';' (spreadsheets in comma-decimal locales write ';'), whichever splits the header more. */
function delimiterOf(header: string): string {
  const count = (delimiter: string) => {
    try {
      return unwrapped(fieldsOf(header, delimiter), delimiter).length;
    } catch {
      return 0;
    }
  };
  return count(';') > count(',') ? ';' : ',';
}

/**
 * The header and rows of a CSV text (a byte order mark and blank lines ignored). A row that
 * cannot be read, or has another number of fields than the header, is a problem, not a row.
 * Throws a RangeError for a text without a header.
 */
export function readCsvTable(text: string): CsvTable {
  const physical = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = physical.findIndex((raw) => raw.trim() !== '');
  if (headerIndex === -1) throw new RangeError('the file is empty');
  const headerText = physical[headerIndex] ?? '';
  const delimiter = delimiterOf(headerText);
  let header: string[];
  try {
    header = unwrapped(fieldsOf(headerText, delimiter), delimiter).map((c) => c.trim());
  } catch (error) {
    throw new RangeError(`the CSV header cannot be read: ${(error as Error).message}`);
  }
  const rows: CsvRow[] = [];
  const problems: CsvProblem[] = [];
  for (let index = headerIndex + 1; index < physical.length; index++) {
    const raw = physical[index] ?? '';
    const line = index + 1;
    if (raw.trim() === '') continue;
    let fields: string[];
    try {
      fields = unwrapped(fieldsOf(raw, delimiter), delimiter);
    } catch (error) {
      const message = (error as Error).message.replace(/ (at|on) line 1\b/, '');
      problems.push({ line, column: '(line)', message });
      continue;
    }
    if (fields.length !== header.length) {
      problems.push({
        line,
        column: '(line)',
        message: `${fields.length} fields, the header names ${header.length}`,
      });
      continue;
    }
    rows.push({ line, fields });
  }
  return { header, rows, problems };
}

/** The exports' marks for a value that is not there: never read as 0. */
export function isMissingValue(raw: string): boolean {
  const text = raw.trim().toLowerCase();
  return text === '' || text === '-' || text === 'n/e' || text === 'n/a';
}

const DECIMAL_AS_WRITTEN = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * A number as decimal text the event schemas take (`-?digits(.digits)?`), or why not: a leading
 * `+`, `.5` and `5.` are rewritten, digits kept as published; exponents and decimal commas are
 * refused (`1,5` could be one and a half or fifteen).
 */
export function decimalText(raw: string): { text: string } | { problem: string } {
  const match = DECIMAL_AS_WRITTEN.exec(raw.trim());
  const [, sign = '', whole = '', fraction] = match ?? [];
  if (match === null || (whole === '' && (fraction === undefined || fraction === '')))
    return {
      problem: raw.includes(',')
        ? `${JSON.stringify(raw)} is not a decimal number (a decimal point, not a comma)`
        : `${JSON.stringify(raw)} is not a decimal number`,
    };
  const digits = whole === '' ? '0' : whole;
  const text = fraction === undefined || fraction === '' ? digits : `${digits}.${fraction}`;
  return { text: sign === '-' ? `-${text}` : text };
}

/** An instant as the event schemas write it: UTC, `Z`, whole seconds without a fraction. */
export function utcText(instantMs: number): string {
  const iso = new Date(instantMs).toISOString();
  return instantMs % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso;
}

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * An ISO 8601 instant: with `Z` or an offset, or (where `naiveIsUtc`, as in a column headed
 * "(UTC)") without either. Undefined for anything else, a date that does not exist included.
 */
export function isoInstantMs(raw: string, naiveIsUtc: boolean): number | undefined {
  const match = ISO_INSTANT.exec(raw.trim());
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second = '00', fraction = '', zone] = match;
  if (zone === undefined && !naiveIsUtc) return undefined;
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
    check.getUTCMonth() !== Number(month) - 1 ||
    check.getUTCDate() !== Number(day) ||
    check.getUTCHours() !== Number(hour) ||
    Number(minute) > 59 ||
    Number(second) > 59
  )
    return undefined;
  const offsetMinutes =
    zone === undefined || zone === 'Z'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
  const fractionMs = fraction === '' ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
  return wallMs + fractionMs - offsetMinutes * 60_000;
}

/** A point of a series as read, before it is grouped into publications. */
export interface SeriesPoint {
  readonly line: number;
  readonly zone: string;
  readonly startMs: number;
  readonly resolutionMinutes: 15 | 60;
}

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * Points of one zone whose intervals overlap an earlier line's (the same interval twice, or an
 * hour and one of its quarter hours): a file that says two things of one instant is refused.
 */
export function overlapProblems(points: readonly SeriesPoint[], column: string): CsvProblem[] {
  const lineOf = new Map<string, number>();
  const problems: CsvProblem[] = [];
  for (const point of points) {
    const quarters = point.resolutionMinutes / 15;
    let clash: number | undefined;
    for (let q = 0; q < quarters && clash === undefined; q++)
      clash = lineOf.get(`${point.zone}\n${point.startMs + q * QUARTER_HOUR_MS}`);
    if (clash !== undefined) {
      problems.push({
        line: point.line,
        column,
        message: `${utcText(point.startMs)} (${point.zone}) overlaps the interval of line ${clash}`,
      });
      continue;
    }
    for (let q = 0; q < quarters; q++)
      lineOf.set(`${point.zone}\n${point.startMs + q * QUARTER_HOUR_MS}`, point.line);
  }
  return problems;
}

/**
 * The resolution of a series that gives only starts: 60 where every start is on a full hour
 * (UTC), else 15. Refuses rows more than an hour apart everywhere (a daily or monthly file is
 * not a series of hours), since such a file would be read as sparse hours.
 */
export function inferredResolution(starts: readonly { zone: string; startMs: number }[]): 15 | 60 {
  const resolution = starts.every((s) => s.startMs % 3_600_000 === 0) ? 60 : 15;
  const byZone = new Map<string, number[]>();
  for (const { zone, startMs } of starts) byZone.set(zone, [...(byZone.get(zone) ?? []), startMs]);
  let smallestGapMs = Infinity;
  for (const zoneStarts of byZone.values()) {
    const sorted = [...new Set(zoneStarts)].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++)
      smallestGapMs = Math.min(smallestGapMs, (sorted[i] ?? 0) - (sorted[i - 1] ?? 0));
  }
  if (smallestGapMs !== Infinity && smallestGapMs > 3_600_000)
    throw new RangeError(
      `no two rows are less than ${smallestGapMs / 3_600_000} hours apart: not an hourly or 15-minute series (a daily or monthly file?); give --resolution 60 or 15 if it is one`,
    );
  return resolution;
}
