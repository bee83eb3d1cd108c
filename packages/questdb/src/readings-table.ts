import type { Sender } from '@questdb/nodejs-client';
import { addMissingColumns } from './columns.ts';
import { IlpLines, ilpBytes } from './ilp-line.ts';
import type { QuestDbReader } from './reader.ts';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent, ReadingQuality } from '@gridstream/events';
import { PHASES, largerOf, mergeEnergyReadings, phasePowers } from '@gridstream/energy-core';
import type { EnergyReading, IntervalEnergy } from '@gridstream/energy-core';

export const READINGS_TABLE = 'readings';

export function readingsTableName(prefix: string): string {
  return `${prefix}${READINGS_TABLE}`;
}

/** The energy columns, computed by the energy processor: the interval that ends at the reading. */
const ENERGY_COLUMNS: readonly (readonly [name: string, type: string])[] = [
  ['delta_from', 'TIMESTAMP'],
  ['delta_import_wh', 'DOUBLE'],
  ['delta_export_wh', 'DOUBLE'],
  ['delta_method', 'SYMBOL CAPACITY 8'],
  ['delta_flags', 'VARCHAR'],
  ['delta_quality', 'SYMBOL CAPACITY 4'],
  ...PHASES.flatMap((p) => [
    [`delta_${p}_import_wh`, 'DOUBLE'] as const,
    [`delta_${p}_export_wh`, 'DOUBLE'] as const,
  ]),
];

/**
 * Raw readings, one row per device and instant, with the energy of the interval that ends at
 * each (the `delta_*` columns). DEDUP UPSERT KEYS makes a redelivered reading replace its row
 * instead of adding one, so writing twice is harmless; it also replaces the whole row, so a
 * reading whose delta changes (a late predecessor arrived) is written again whole. The energy
 * processor writes the merged reading of an instant (`mergeStoredReadings`), not the last part.
 */
export function readingsTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS "${table}" (
    ts TIMESTAMP,
    tenant SYMBOL CAPACITY 256,
    device_id SYMBOL CAPACITY 16384,
    power_w DOUBLE,
    import_wh DOUBLE,
    export_wh DOUBLE,
    voltage_v DOUBLE,
    current_a DOUBLE,
    l1_power_w DOUBLE,
    l2_power_w DOUBLE,
    l3_power_w DOUBLE,
    soc_pct DOUBLE,
    temperature_c DOUBLE,
    quality SYMBOL CAPACITY 4,
    event_id VARCHAR,
    kafka_partition LONG,
    kafka_offset LONG,
    ${ENERGY_COLUMNS.map(([name, type]) => `${name} ${type}`).join(',\n    ')}
  ) TIMESTAMP(ts) PARTITION BY DAY WAL
  DEDUP UPSERT KEYS(ts, tenant, device_id)`;
}

/** Creates the table, or adds the energy columns to one created before they existed. */
export async function ensureReadingsTable(reader: QuestDbReader, table: string): Promise<void> {
  await reader.query(readingsTableDdl(table));
  await addMissingColumns(reader, table, ENERGY_COLUMNS);
}

/**
 * One stored reading: the energy core's view of it, the rest of what the event said, and where
 * it came from in the log (a timeline holds these, so a changed row can be written whole).
 */
export interface StoredReading extends EnergyReading {
  readonly tenant: string;
  readonly voltageV?: number | undefined;
  readonly currentA?: number | undefined;
  readonly socPct?: number | undefined;
  readonly temperatureC?: number | undefined;
  readonly eventId: string;
  readonly kafkaPartition: number;
  readonly kafkaOffset: number;
}

/**
 * Two stored readings of one device at one instant as one row (docs/energy.md): the energy
 * fields as `mergeEnergyReadings` (the larger value of a field both carry, the worse quality),
 * the other measured values the larger too, and the event id and log position of the part with
 * the smallest event id. Each choice is commutative, associative and idempotent, so the row
 * does not depend on the order or the number of deliveries, and merging a row read back from
 * QuestDB with a part again gives the same row.
 */
export function mergeStoredReadings(a: StoredReading, b: StoredReading): StoredReading {
  if (a.tenant !== b.tenant) throw new RangeError('only readings of one tenant are merged');
  const origin =
    a.eventId < b.eventId ||
    (a.eventId === b.eventId &&
      (a.kafkaPartition < b.kafkaPartition ||
        (a.kafkaPartition === b.kafkaPartition && a.kafkaOffset <= b.kafkaOffset)))
      ? a
      : b;
  return {
    ...mergeEnergyReadings(a, b),
    tenant: a.tenant,
    voltageV: largerOf(a.voltageV, b.voltageV),
    currentA: largerOf(a.currentA, b.currentA),
    socPct: largerOf(a.socPct, b.socPct),
    temperatureC: largerOf(a.temperatureC, b.temperatureC),
    eventId: origin.eventId,
    kafkaPartition: origin.kafkaPartition,
    kafkaOffset: origin.kafkaOffset,
  };
}

/** A reading's computed energy, as the `delta_*` columns store it. */
export type StoredReadingEnergy = Pick<
  IntervalEnergy,
  'startMs' | 'importWh' | 'exportWh' | 'method' | 'flags' | 'quality' | 'phases'
>;

/** A reading with where it came from in the log. */
export interface LoggedEvent {
  readonly event: GridstreamEvent;
  readonly partition: number;
  readonly offset: string;
}

/** The stored form of a reading event; undefined for any other event. */
export function storedReadingOf({
  event,
  partition,
  offset,
}: LoggedEvent): StoredReading | undefined {
  if (event.type !== EventType.readingReported) return undefined;
  const r = event.data;
  return {
    tenant: event.tenant,
    deviceId: event.subject,
    timeMs: Date.parse(event.time),
    powerW: r.powerW,
    importWh: r.importWh,
    exportWh: r.exportWh,
    voltageV: r.voltageV,
    currentA: r.currentA,
    phasePowersW: phasePowers(r.phases),
    socPct: r.socPct,
    temperatureC: r.temperatureC,
    quality: r.quality,
    eventId: event.id,
    kafkaPartition: partition,
    kafkaOffset: Number(offset),
  };
}

/** The constant pieces of a reading's row, as bytes once. */
const PIECE = {
  tenant: ilpBytes(',tenant='),
  deviceId: ilpBytes(',device_id='),
  quality: ilpBytes(',quality='),
  deltaFirst: ilpBytes(',delta_method=first'),
  deltaMethod: ilpBytes(',delta_method='),
  deltaQuality: ilpBytes(',delta_quality='),
  eventId: ilpBytes('event_id="'),
  kafkaPartition: ilpBytes('",kafka_partition='),
  kafkaOffset: ilpBytes('i,kafka_offset='),
  deltaFrom: ilpBytes(',delta_from='),
  deltaFlags: ilpBytes(',delta_flags="'),
};

/** `,name=` of each double column, as bytes once. */
const DOUBLE = Object.fromEntries(
  [
    'power_w',
    'import_wh',
    'export_wh',
    'voltage_v',
    'current_a',
    'soc_pct',
    'temperature_c',
    'delta_import_wh',
    'delta_export_wh',
  ].map((name) => [name, ilpBytes(`,${name}=`)]),
);

/** Column names per phase, built once: a row names them for every reading. */
const PHASE_COLUMNS = PHASES.map((phase) => ({
  phase,
  powerW: ilpBytes(`,${phase}_power_w=`),
  importWh: ilpBytes(`,delta_${phase}_import_wh=`),
  exportWh: ilpBytes(`,delta_${phase}_export_wh=`),
}));

/** `,name=value` for a number that is there; nothing for one that is not (QuestDB's null). */
function putDouble(lines: IlpLines, name: Uint8Array | undefined, value: number | undefined): void {
  if (value === undefined || name === undefined || !Number.isFinite(value)) return;
  lines.raw(name).double(value);
}

/**
 * One reading's whole row as an ILP line, written into `lines`: the raw reading, where it came
 * from in the log, and with `energy` the interval that ends at it (null: the device's first
 * reading, `delta_method` first; undefined: not computed, the raw row alone). Written as bytes
 * (`IlpLines`): built as one string, a row was about forty strings and the energy processor's
 * largest garbage; before that, the client's per-column calls were a sixth of its time.
 * Escaping follows the client's (`readings-table.int.spec.ts` writes and reads back names and
 * strings that need it).
 */
export function writeReadingRow(
  lines: IlpLines,
  table: string,
  reading: StoredReading,
  energy?: StoredReadingEnergy | null,
): void {
  lines.name(table);
  lines.raw(PIECE.tenant).name(reading.tenant);
  lines.raw(PIECE.deviceId).name(reading.deviceId);
  lines.raw(PIECE.quality).name(reading.quality);
  if (energy === null) lines.raw(PIECE.deltaFirst);
  else if (energy !== undefined) {
    lines.raw(PIECE.deltaMethod).name(energy.method);
    lines.raw(PIECE.deltaQuality).name(energy.quality);
  }
  // The fields: event_id first (always there), so the space after the symbols is its own.
  lines.byte(0x20).raw(PIECE.eventId).stringValue(reading.eventId);
  lines.raw(PIECE.kafkaPartition).integer(reading.kafkaPartition);
  lines.raw(PIECE.kafkaOffset).integer(reading.kafkaOffset).byte(0x69); // i
  putDouble(lines, DOUBLE.power_w, reading.powerW);
  putDouble(lines, DOUBLE.import_wh, reading.importWh);
  putDouble(lines, DOUBLE.export_wh, reading.exportWh);
  putDouble(lines, DOUBLE.voltage_v, reading.voltageV);
  putDouble(lines, DOUBLE.current_a, reading.currentA);
  const phasePowers = reading.phasePowersW;
  if (phasePowers !== undefined)
    for (const { phase, powerW } of PHASE_COLUMNS) putDouble(lines, powerW, phasePowers[phase]);
  putDouble(lines, DOUBLE.soc_pct, reading.socPct);
  putDouble(lines, DOUBLE.temperature_c, reading.temperatureC);
  if (energy) {
    lines
      .raw(PIECE.deltaFrom)
      .integer(energy.startMs * 1000)
      .byte(0x74); // t
    putDouble(lines, DOUBLE.delta_import_wh, energy.importWh);
    putDouble(lines, DOUBLE.delta_export_wh, energy.exportWh);
    lines.raw(PIECE.deltaFlags);
    if (energy.flags.length > 0) lines.stringValue(energy.flags.join(','));
    lines.byte(0x22); // "
    const phases = energy.phases;
    if (phases !== undefined)
      for (const { phase, importWh, exportWh } of PHASE_COLUMNS) {
        const phaseEnergy = phases[phase];
        if (phaseEnergy === undefined) continue;
        putDouble(lines, importWh, phaseEnergy.importWh);
        putDouble(lines, exportWh, phaseEnergy.exportWh);
      }
  }
  lines
    .byte(0x20)
    .integer(reading.timeMs * 1000)
    .byte(0x74)
    .end(); // t
}

/** The lines each kind of sender's rows are written into before they are appended (reused). */
const rowLines = { binary: new IlpLines(true), text: new IlpLines(false) };

/** Buffers one reading's whole row (`writeReadingRow`); the caller flushes. */
export function bufferReadingRow(
  sender: Sender,
  table: string,
  reading: StoredReading,
  energy?: StoredReadingEnergy | null,
): void {
  const lines = (sender.binaryDoubles ? rowLines.binary : rowLines.text).reset();
  writeReadingRow(lines, table, reading, energy);
  sender.appendLines(lines.take());
}

/** Rows go to the sender from this many bytes on: a batch's rows in a few copies, not one a row. */
const APPEND_FROM_BYTES = 60 * 1024;

/**
 * Buffers each reading's whole row with its energy (`writeReadingRow`); the caller flushes. The
 * rows reach the sender about 60 KiB at a time: appended one by one, the copy and its view cost
 * a third as much as writing the row.
 */
export function bufferReadingEnergyRows(
  sender: Sender,
  table: string,
  rows: Iterable<{
    readonly reading: StoredReading;
    readonly interval: StoredReadingEnergy | null;
  }>,
): void {
  const lines = (sender.binaryDoubles ? rowLines.binary : rowLines.text).reset();
  let count = 0;
  for (const { reading, interval } of rows) {
    writeReadingRow(lines, table, reading, interval);
    count++;
    if (lines.length >= APPEND_FROM_BYTES) {
      sender.appendLines(lines.take(), count);
      count = 0;
    }
  }
  if (count > 0) sender.appendLines(lines.take(), count);
}

/** Buffers the raw row of every reading among the events; the caller flushes. */
export async function bufferReadingRows(
  sender: Sender,
  table: string,
  events: readonly LoggedEvent[],
): Promise<number> {
  let rows = 0;
  for (const logged of events) {
    const reading = storedReadingOf(logged);
    if (reading === undefined) continue;
    bufferReadingRow(sender, table, reading);
    rows++;
  }
  return rows;
}

/** The columns `storedReadingFromRow` reads back. */
export const STORED_READING_COLUMNS =
  'ts, tenant, device_id, power_w, import_wh, export_wh, voltage_v, current_a, l1_power_w, l2_power_w, l3_power_w, soc_pct, temperature_c, quality, event_id, kafka_partition, kafka_offset';

export interface StoredReadingRow {
  ts: Date;
  tenant: string;
  device_id: string;
  power_w: number | null;
  import_wh: number | null;
  export_wh: number | null;
  voltage_v: number | null;
  current_a: number | null;
  l1_power_w: number | null;
  l2_power_w: number | null;
  l3_power_w: number | null;
  soc_pct: number | null;
  temperature_c: number | null;
  quality: ReadingQuality | null;
  event_id: string | null;
  kafka_partition: string | number | null;
  kafka_offset: string | number | null;
}

/** A stored reading as read back over PG wire (STORED_READING_COLUMNS). */
export function storedReadingFromRow(row: StoredReadingRow): StoredReading {
  return {
    tenant: row.tenant,
    deviceId: row.device_id,
    timeMs: row.ts.getTime(),
    powerW: row.power_w ?? undefined,
    importWh: row.import_wh ?? undefined,
    exportWh: row.export_wh ?? undefined,
    voltageV: row.voltage_v ?? undefined,
    currentA: row.current_a ?? undefined,
    phasePowersW: phasePowers({
      l1: { powerW: row.l1_power_w ?? undefined },
      l2: { powerW: row.l2_power_w ?? undefined },
      l3: { powerW: row.l3_power_w ?? undefined },
    }),
    socPct: row.soc_pct ?? undefined,
    temperatureC: row.temperature_c ?? undefined,
    quality: row.quality ?? 'good',
    eventId: row.event_id ?? '',
    kafkaPartition: Number(row.kafka_partition ?? -1),
    kafkaOffset: Number(row.kafka_offset ?? -1),
  };
}
