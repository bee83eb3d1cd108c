import type { QuestDbReader } from './reader.ts';

/**
 * A QuestDB time to live: partitions wholly older than it (measured back from the newest row,
 * capped at the wall clock) are dropped when the table is next written. It must be a whole
 * number of the table's partitions: DAYS for the DAY-partitioned tables, MONTHS for `events`.
 * A count of 0 keeps everything. The settings are @gridstream/config's (`questDbRetention`).
 */
export interface TableTtl {
  readonly count: number;
  readonly unit: 'DAYS' | 'MONTHS';
}

/** What tables() says of a table's TTL. */
interface TtlRow {
  readonly ttlValue: number;
  readonly ttlUnit: string;
}

/** Hours of the fixed units, months of the calendar ones: the two never compare equal. */
const UNIT_SIZE: Readonly<Record<string, { readonly calendar: boolean; readonly size: number }>> = {
  HOUR: { calendar: false, size: 1 },
  DAY: { calendar: false, size: 24 },
  WEEK: { calendar: false, size: 168 },
  MONTH: { calendar: true, size: 1 },
  YEAR: { calendar: true, size: 12 },
};

/**
 * Whether the TTL tables() reports (`ttlValue`, `ttlUnit` in the singular, 0 for none) is the one
 * asked for: QuestDB may report 14 DAYS as 2 WEEK, and 12 MONTHS as 1 YEAR.
 */
export function ttlMatches(reported: TtlRow, wanted: TableTtl): boolean {
  if (reported.ttlValue === 0 || wanted.count === 0)
    return reported.ttlValue === 0 && wanted.count === 0;
  const have = UNIT_SIZE[reported.ttlUnit.toUpperCase().replace(/S$/, '')];
  const want = UNIT_SIZE[wanted.unit.replace(/S$/, '')];
  if (have === undefined || want === undefined) return false;
  return (
    have.calendar === want.calendar && reported.ttlValue * have.size === wanted.count * want.size
  );
}

/** The TTL clause of ALTER TABLE / ALTER MATERIALIZED VIEW: `90 DAYS`, or `0 DAYS` for none. */
export function ttlClause(ttl: TableTtl): string {
  if (!Number.isSafeInteger(ttl.count) || ttl.count < 0)
    throw new RangeError(`a TTL is a whole number of ${ttl.unit}, 0 for none: ${ttl.count}`);
  return `${ttl.count} ${ttl.unit}`;
}

/** The TTL a table or materialized view has now; undefined for one that does not exist. */
export async function tableTtl(reader: QuestDbReader, table: string): Promise<TtlRow | undefined> {
  const [row] = await reader.query<TtlRow>(
    'SELECT ttlValue, ttlUnit FROM tables() WHERE table_name = $1',
    [table],
  );
  return row;
}

/**
 * Gives a table (or a materialized view) its TTL, whether it was created before the setting or
 * the setting changed since: services call this at start, after creating their tables. A table
 * that has it already is not altered.
 */
export async function applyTableTtl(
  reader: QuestDbReader,
  table: string,
  ttl: TableTtl,
  kind: 'TABLE' | 'MATERIALIZED VIEW' = 'TABLE',
): Promise<void> {
  const current = await tableTtl(reader, table);
  if (current === undefined) throw new RangeError(`no QuestDB table ${table} to give a TTL`);
  if (ttlMatches(current, ttl)) return;
  await reader.query(`ALTER ${kind} "${table}" SET TTL ${ttlClause(ttl)}`);
}
