import { isUtf8 } from 'node:buffer';
import {
  CeHeader,
  catalogueJsonSchema,
  EventType,
  isEventType,
  isSupersededEventType,
  SupersededEventType,
  upcasters,
  upcastToCurrent,
} from '@gridstream/events';

/**
 * One event as replay sees it: the CloudEvents attributes from the headers and the data as the
 * raw JSON text it was stored as. Replay never parses or re-validates the `data` of a current
 * type to filter or to write NDJSON; it passes the stored bytes through, so it is fast and shows
 * history as stored. An event of a superseded version is upcast (`currentVersionOf`).
 */
export interface ReplayAttributes {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly time: string;
  readonly tenant: string;
}

export interface ReplayRecord extends ReplayAttributes {
  readonly dataJson: string;
}

type Headers = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

function header(headers: Headers | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const single = Array.isArray(raw) ? raw[0] : raw;
  return single === undefined ? undefined : single.toString();
}

/** The CloudEvents attributes of a Kafka message; undefined when it is not a gridstream event. */
export function replayAttributesOf(headers: Headers | undefined): ReplayAttributes | undefined {
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
    tenant === undefined
  ) {
    return undefined;
  }
  return { id, type, source, subject, time, tenant };
}

/** Reads a Kafka message as a replay record; undefined when it is not a gridstream event. */
export function replayRecordOf(message: {
  readonly headers?: Headers | undefined;
  readonly value: Buffer | null;
}): ReplayRecord | undefined {
  const attributes = replayAttributesOf(message.headers);
  if (attributes === undefined || message.value === null) return undefined;
  return { ...attributes, dataJson: message.value.toString('utf8') };
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

/**
 * The event as its current version, as consumers see it (docs/events.md, Versions): a current
 * type's attributes and stored bytes as they are (one lookup), an old version's upcast. A record
 * that does not upcast (not JSON, invalid, a type nobody knows) stays as stored.
 */
export function currentVersionOf(
  attributes: ReplayAttributes,
  data: Buffer,
): { readonly attributes: ReplayAttributes; readonly data: Buffer } {
  if (isEventType(attributes.type) || !isSupersededEventType(attributes.type))
    return { attributes, data };
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    return { attributes, data };
  }
  const upcast = upcastToCurrent(attributes.type, json);
  if (!upcast.ok) return { attributes, data };
  return {
    attributes: { ...attributes, type: upcast.type },
    data: Buffer.from(JSON.stringify(upcast.data)),
  };
}

export function matchesFilter(record: ReplayAttributes, filter: ReplayFilter): boolean {
  const timeMs = Date.parse(record.time);
  return (
    timeMs >= filter.fromMs &&
    timeMs < filter.toMs &&
    (filter.tenants === undefined || filter.tenants.has(record.tenant)) &&
    (filter.devices === undefined || filter.devices.has(record.subject)) &&
    (filter.types === undefined || filter.types.has(record.type))
  );
}

/** The current type a superseded one decodes as (through its upcasters); a current type itself. */
function currentTypeOf(type: string): string {
  let current = type;
  for (let hops = 0; isSupersededEventType(current) && hops < 16; hops++)
    current = upcasters[current].to;
  return current;
}

/**
 * Event types named in full or by their short form (`reading.reported`, `reading.reported.v1`),
 * each as its current version: replay writes old versions upcast, so `device.registered.v1`
 * selects every registration, as `device.registered` does. Throws a RangeError naming the
 * unknown ones.
 */
export function resolveEventTypes(names: readonly string[]): Set<string> {
  const all = [...Object.values(EventType), ...Object.values(SupersededEventType)] as string[];
  const resolved = new Set<string>();
  const unknown: string[] = [];
  for (const name of names) {
    const match = all.filter(
      (type) =>
        type === name || type === `gridstream.${name}` || type.startsWith(`gridstream.${name}.v`),
    );
    if (match.length === 0) unknown.push(name);
    for (const type of match) resolved.add(currentTypeOf(type));
  }
  if (unknown.length > 0) {
    throw new RangeError(`unknown event type ${unknown.join(', ')}; known: ${all.join(', ')}`);
  }
  return resolved;
}

/**
 * An NDJSON line up to its data: the event in CloudEvents structured mode, ending in `"data":`.
 * Written out field by field, not JSON.stringify of a spread object: a tenth of a replay's CPU
 * went to that object (`pnpm bench rebuild`, 1M events). Each value is still a JSON string.
 */
function ndjsonHead(a: ReplayAttributes): string {
  return `{"specversion":"1.0","id":${JSON.stringify(a.id)},"type":${JSON.stringify(a.type)},"source":${JSON.stringify(a.source)},"subject":${JSON.stringify(a.subject)},"time":${JSON.stringify(a.time)},"tenant":${JSON.stringify(a.tenant)},"datacontenttype":"application/json","data":`;
}

/** One NDJSON line: the event in CloudEvents structured mode, `data` exactly as stored. */
export function ndjsonLine(record: ReplayRecord): string {
  return `${ndjsonHead(record)}${record.dataJson}}\n`;
}

const LINE_END = Buffer.from('}\n');

/**
 * NDJSON lines as bytes, the lines `ndjsonLine` gives: the stored data is copied as it is when
 * it is UTF-8, not decoded into a string and encoded again (together a fifth of a replay's CPU).
 * Data that is not UTF-8 goes through a string, as `ndjsonLine` shows it.
 */
export class NdjsonChunk {
  #buffer = Buffer.allocUnsafe(256 * 1024);
  #length = 0;

  add(attributes: ReplayAttributes, data: Buffer): void {
    const head = ndjsonHead(attributes);
    const body = isUtf8(data) ? data : Buffer.from(data.toString('utf8'));
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    this.#reserve(head.length * 3 + body.length + LINE_END.length);
    this.#length += this.#buffer.write(head, this.#length);
    this.#length += body.copy(this.#buffer, this.#length);
    this.#length += LINE_END.copy(this.#buffer, this.#length);
  }

  /** The lines added since the last take, as one buffer of their own. */
  take(): Buffer {
    const lines = Buffer.from(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
    return lines;
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + bytes));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
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
    // replay writes old versions upcast: only current types have columns
    if (!isEventType(type)) continue;
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
