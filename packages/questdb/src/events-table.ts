import type { Sender } from '@questdb/nodejs-client';
import { isEventType, upcastToCurrent } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { QuestDbReader } from './reader.ts';

export function eventsTableName(prefix: string): string {
  return `${prefix}events`;
}

/**
 * Every event that is not a reading, as it was on the log: history that is queryable in SQL
 * and per device. One row per log position (a redelivered event upserts its own row; an event
 * published twice is in the log twice and so here twice, as it happened).
 */
export async function ensureEventsTable(reader: QuestDbReader, table: string): Promise<void> {
  await reader.query(`CREATE TABLE IF NOT EXISTS "${table}" (
    ts TIMESTAMP,
    tenant SYMBOL CAPACITY 256,
    subject SYMBOL CAPACITY 16384,
    type SYMBOL CAPACITY 64,
    id VARCHAR,
    source VARCHAR,
    data VARCHAR,
    kafka_topic SYMBOL CAPACITY 16,
    kafka_partition INT,
    kafka_offset LONG
  ) TIMESTAMP(ts) PARTITION BY MONTH WAL
  DEDUP UPSERT KEYS(ts, kafka_topic, kafka_partition, kafka_offset)`);
}

export interface ArchivedEvent {
  readonly event: GridstreamEvent;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Buffers one event's row; the caller flushes. */
export async function bufferEventRow(
  sender: Sender,
  table: string,
  { event, topic, partition, offset }: ArchivedEvent,
): Promise<void> {
  await sender
    .table(table)
    .symbol('tenant', event.tenant)
    .symbol('subject', event.subject)
    .symbol('type', event.type)
    .symbol('kafka_topic', topic)
    .stringColumn('id', event.id)
    .stringColumn('source', event.source)
    .stringColumn('data', JSON.stringify(event.data))
    .intColumn('kafka_partition', partition)
    .intColumn('kafka_offset', Number(offset))
    .at(Date.parse(event.time) * 1000, 'us');
}

interface EventRow {
  ts: Date;
  tenant: string;
  subject: string;
  type: string;
  id: string;
  source: string;
  data: string;
}

/**
 * A device's archived events with event time in [fromMs, toMs), oldest first (log order among
 * events of the same instant). The rows were validated when they were consumed, so they are
 * read back as catalogue events without validating again; a row archived as a version since
 * superseded (its type and data as they were then) is upcast, as decoding it from Kafka would.
 */
export async function readDeviceEvents(
  reader: QuestDbReader,
  table: string,
  query: { tenant: string; deviceId: string; fromMs: number; toMs: number; limit: number },
): Promise<GridstreamEvent[]> {
  const rows = await queryUnlessMissing(
    reader.query<EventRow>(
      `SELECT ts, tenant, subject, type, id, source, data FROM "${table}"
     WHERE tenant = $1 AND subject = $2 AND ts >= $3 AND ts < $4
     ORDER BY ts, kafka_offset LIMIT ${query.limit}`,
      [
        query.tenant,
        query.deviceId,
        new Date(query.fromMs).toISOString(),
        new Date(query.toMs).toISOString(),
      ],
    ),
  );
  return rows.map((row) => {
    const archived = JSON.parse(row.data) as unknown;
    const current = isEventType(row.type) ? undefined : upcastToCurrent(row.type, archived);
    return {
      id: row.id,
      type: current?.ok ? current.type : row.type,
      source: row.source,
      subject: row.subject,
      time: row.ts.toISOString(),
      tenant: row.tenant,
      data: current?.ok ? current.data : archived,
    } as GridstreamEvent;
  });
}

/** A table nobody has written to yet does not exist: it holds no rows. */
export async function queryUnlessMissing<Row>(query: Promise<Row[]>): Promise<Row[]> {
  try {
    return await query;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('table does not exist')) return [];
    throw error;
  }
}
