import type { Sender } from '@questdb/nodejs-client';
import type { QuestDbReader } from './reader.ts';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';

export const READINGS_TABLE = 'readings';

export function readingsTableName(prefix: string): string {
  return `${prefix}${READINGS_TABLE}`;
}

/**
 * Raw readings, one row per device and instant. DEDUP UPSERT KEYS makes a redelivered or
 * duplicated reading replace its row instead of adding one: writing twice is harmless.
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
    kafka_offset LONG
  ) TIMESTAMP(ts) PARTITION BY DAY WAL
  DEDUP UPSERT KEYS(ts, tenant, device_id)`;
}

export async function ensureReadingsTable(reader: QuestDbReader, table: string): Promise<void> {
  await reader.query(readingsTableDdl(table));
}

function optionalFloat(sender: Sender, column: string, value: number | undefined): void {
  if (value !== undefined) sender.floatColumn(column, value);
}

/** A reading with where it came from in the log (kept in the row for audit and replay). */
export interface LoggedEvent {
  readonly event: GridstreamEvent;
  readonly partition: number;
  readonly offset: string;
}

/** Buffers one ILP row per reading; the caller flushes. */
export async function bufferReadingRows(
  sender: Sender,
  table: string,
  events: readonly LoggedEvent[],
): Promise<number> {
  let rows = 0;
  for (const { event, partition, offset } of events) {
    if (event.type !== EventType.readingReported) continue;
    const r = event.data;
    sender
      .table(table)
      .symbol('tenant', event.tenant)
      .symbol('device_id', event.subject)
      .symbol('quality', r.quality);
    optionalFloat(sender, 'power_w', r.powerW);
    optionalFloat(sender, 'import_wh', r.importWh);
    optionalFloat(sender, 'export_wh', r.exportWh);
    optionalFloat(sender, 'voltage_v', r.voltageV);
    optionalFloat(sender, 'current_a', r.currentA);
    optionalFloat(sender, 'l1_power_w', r.phases?.l1?.powerW);
    optionalFloat(sender, 'l2_power_w', r.phases?.l2?.powerW);
    optionalFloat(sender, 'l3_power_w', r.phases?.l3?.powerW);
    optionalFloat(sender, 'soc_pct', r.socPct);
    optionalFloat(sender, 'temperature_c', r.temperatureC);
    sender
      .stringColumn('event_id', event.id)
      .intColumn('kafka_partition', partition)
      .intColumn('kafka_offset', Number(offset));
    await sender.at(Date.parse(event.time) * 1000, 'us');
    rows++;
  }
  return rows;
}
