import { CeHeader, catalogueJsonSchema, EventType } from '@gridstream/events';

/**
 * One event as replay sees it: the CloudEvents attributes from the headers and the data as the
 * raw JSON text it was stored as. Replay never parses or re-validates `data` to filter or to
 * write NDJSON; it passes the stored bytes through, so it is fast and shows history as stored.
 */
export interface ReplayRecord {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly time: string;
  readonly tenant: string;
  readonly dataJson: string;
}

type Headers = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

function header(headers: Headers | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const single = Array.isArray(raw) ? raw[0] : raw;
  return single === undefined ? undefined : single.toString();
}

/** Reads a Kafka message as a replay record; undefined when it is not a gridstream event. */
export function replayRecordOf(message: {
  readonly headers?: Headers | undefined;
  readonly value: Buffer | null;
}): ReplayRecord | undefined {
  const { headers } = message;
  const id = header(headers, CeHeader.id);
  const type = header(headers, CeHeader.type);
  const source = header(headers, CeHeader.source);
  const subject = header(headers, CeHeader.subject);
  const time = header(headers, CeHeader.time);
  const tenant = header(headers, CeHeader.tenant);
  if (
    id === undefined ||
    type === undefined ||
    source === undefined ||
    subject === undefined ||
    time === undefined ||
    tenant === undefined ||
    message.value === null
  ) {
    return undefined;
  }
  return { id, type, source, subject, time, tenant, dataJson: message.value.toString('utf8') };
}

export interface ReplayFilter {
  /** Event time, inclusive. */
  readonly fromMs: number;
  /** Event time, exclusive. */
  readonly toMs: number;
  readonly tenants?: ReadonlySet<string> | undefined;
  /** Device ids (the event's subject); a site filter is resolved into its devices. */
  readonly devices?: ReadonlySet<string> | undefined;
  readonly types?: ReadonlySet<string> | undefined;
}

export function matchesFilter(record: ReplayRecord, filter: ReplayFilter): boolean {
  const timeMs = Date.parse(record.time);
  return (
    timeMs >= filter.fromMs &&
    timeMs < filter.toMs &&
    (filter.tenants === undefined || filter.tenants.has(record.tenant)) &&
    (filter.devices === undefined || filter.devices.has(record.subject)) &&
    (filter.types === undefined || filter.types.has(record.type))
  );
}

/**
 * Event types named in full or by their short form (`reading.reported`, `reading.reported.v1`).
 * Throws a RangeError naming the unknown ones.
 */
export function resolveEventTypes(names: readonly string[]): Set<string> {
  const all = Object.values(EventType) as string[];
  const resolved = new Set<string>();
  const unknown: string[] = [];
  for (const name of names) {
    const match = all.filter(
      (type) =>
        type === name || type === `gridstream.${name}` || type.startsWith(`gridstream.${name}.v`),
    );
    if (match.length === 0) unknown.push(name);
    for (const type of match) resolved.add(type);
  }
  if (unknown.length > 0) {
    throw new RangeError(`unknown event type ${unknown.join(', ')}; known: ${all.join(', ')}`);
  }
  return resolved;
}

/** One NDJSON line: the event in CloudEvents structured mode, `data` exactly as stored. */
export function ndjsonLine(record: ReplayRecord): string {
  // Written out field by field, not JSON.stringify of a spread object: a tenth of a replay's CPU
  // went to that object (`pnpm bench rebuild`, 1M events). Each value is still a JSON string.
  const { id, type, source, subject, time, tenant, dataJson } = record;
  return `{"specversion":"1.0","id":${JSON.stringify(id)},"type":${JSON.stringify(type)},"source":${JSON.stringify(source)},"subject":${JSON.stringify(subject)},"time":${JSON.stringify(time)},"tenant":${JSON.stringify(tenant)},"datacontenttype":"application/json","data":${dataJson}}\n`;
}

const ENVELOPE_COLUMNS = ['time', 'type', 'tenant', 'subject', 'id', 'source'] as const;

/** CSV columns: the envelope, then every top-level data field of the chosen types, in catalogue order. */
export function csvColumns(types: ReadonlySet<string> | undefined): string[] {
  const defs = catalogueJsonSchema().$defs as Record<
    string,
    { properties?: Record<string, unknown> }
  >;
  const fields: string[] = [];
  for (const [type, schema] of Object.entries(defs)) {
    if (types !== undefined && !types.has(type)) continue;
    for (const field of Object.keys(schema.properties ?? {})) {
      if (!fields.includes(field)) fields.push(field);
    }
  }
  return [...ENVELOPE_COLUMNS, ...fields];
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** One CSV row; `data` fields go into their columns (nested values as JSON). */
export function csvRow(record: ReplayRecord, columns: readonly string[]): string {
  const data = JSON.parse(record.dataJson) as Record<string, unknown>;
  const envelope: Record<string, unknown> = { ...record };
  return csvLine(
    columns.map((column) =>
      (ENVELOPE_COLUMNS as readonly string[]).includes(column) ? envelope[column] : data[column],
    ),
  );
}
