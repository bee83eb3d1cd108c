import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf, GridstreamEvent } from '@gridstream/events';
import {
  DlqHeader,
  createEventPublisher,
  createKafka,
  createTopicsIfMissing,
  kafkaSettings,
  topicNames,
} from '@gridstream/kafka';
import { energyTables, waitForWalApplied } from '@gridstream/questdb';
import {
  DEFAULT_ENERGY_SETTINGS,
  DeviceTimeline,
  quarterHourStartMs,
  quarterHourStartsBetween,
  toEnergyReading,
} from '@gridstream/energy-core';
import { eventually, isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';
import { committedReadings, startEnergyProcessor } from './run.ts';
import type { RunningProcessor } from './run.ts';

// The readings table keeps 2 days. A meter's hour of history from ten days ago comes in order,
// in two halves; QuestDB drops the first half's rows before the second comes. Then the processor
// restarts, and a reading of that hour arrives late: its neighbours are gone. It comes again once
// the retention keeps everything: that brings nothing back.
const config = isolatedConfig({ GS_RETENTION_READINGS_TABLE_DAYS: '2' });
const stopAfterAll = teardown(config);
const tenant = 'keepers';
const tables = energyTables(config.GS_QDB_TABLE_PREFIX);
const DAY_MS = 86_400_000;
const HOUR_START_MS = quarterHourStartMs(Date.now() - 10 * DAY_MS);
const MINUTES = 60;

let sequence = 0;
function event<T extends GridstreamEvent['type']>(
  type: T,
  subject: string,
  time: number,
  data: Extract<GridstreamEvent, { type: T }>['data'],
): EventOf<T> {
  sequence += 1;
  return {
    id: `00000000-0000-7000-8000-${String(sequence).padStart(12, '0')}`,
    type,
    source: 'test',
    subject,
    time: new Date(time).toISOString(),
    tenant,
    data,
  } as EventOf<T>;
}

const registration = (deviceId: string) =>
  event(EventType.deviceRegistered, deviceId, HOUR_START_MS - 30 * DAY_MS, {
    deviceId,
    siteId: 'site-1',
    kind: 'meter',
    role: 'grid',
    name: deviceId,
    timeZone: 'Europe/Berlin',
  });

/** The meter's counter at minute i of the hour: 8 to 20 Wh a minute. */
const counterWh = (i: number) => 40_000 + 14 * i + (i % 5) * 3;
const meterReading = (timeMs: number, importWh: number) =>
  event(EventType.readingReported, 'old-meter', timeMs, {
    deviceId: 'old-meter',
    importWh,
    powerW: 700,
    quality: 'good',
  });
const history = Array.from({ length: MINUTES + 1 }, (_, i) =>
  meterReading(HOUR_START_MS + i * 60_000, counterWh(i)),
);
/** A reading of now from another meter: it moves the table's newest row, and so the TTL. */
const freshReading = () =>
  event(EventType.readingReported, 'fresh-meter', Date.now(), {
    deviceId: 'fresh-meter',
    importWh: 1_000 + sequence,
    quality: 'good',
  });

describe('a reading older than the readings TTL', () => {
  it('is dead-lettered with the reason when its neighbours are gone, a new history in order is not', async () => {
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    const kafka = createKafka(kafkaSettings(config, 'retention-test'));
    await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const reader = stackQuestDbReader();
    stopAfterAll(() => reader.close());
    let processor: RunningProcessor | undefined;
    stopAfterAll(async () => processor?.stop());
    let published = 0;
    const publish = async (events: GridstreamEvent[]) => {
      await publisher.publish(events);
      published += events.filter((e) => e.type === EventType.readingReported).length;
      await eventually(
        `${published} readings committed`,
        async () => ((await committedReadings(config)) >= published ? true : undefined),
        90_000,
      );
    };
    /** Writes readings of now until QuestDB has dropped every row of the old meter. */
    const untilOldRowsDropped = () =>
      eventually(
        "the old meter's rows dropped by the TTL",
        async () => {
          await waitForWalApplied(reader, tables.readings);
          const [row] = await reader.query<{ n: string }>(
            `SELECT count() n FROM "${tables.readings}" WHERE device_id = 'old-meter'`,
          );
          if (Number(row?.n) === 0) return true;
          await publish([freshReading()]);
          return undefined;
        },
        90_000,
      );
    const oldQuarterHours = async () => {
      await waitForWalApplied(reader, tables.deviceEnergy15m);
      const rows = await reader.query<{ ts: Date; import_wh: number; export_wh: number }>(
        `SELECT ts, import_wh, export_wh FROM "${tables.deviceEnergy15m}"
         WHERE device_id = 'old-meter' AND ts < $1 ORDER BY ts`,
        [new Date(HOUR_START_MS + DAY_MS).toISOString()],
      );
      return rows.map((r) => [r.ts.toISOString(), r.import_wh, r.export_wh]);
    };
    const publishedOldQuarterHours = async () =>
      (await readTopic(config, 'energy')).filter((message) => {
        const data = JSON.parse(message.value) as { deviceId: string; bucketStart: string };
        return data.deviceId === 'old-meter' && Date.parse(data.bucketStart) < Date.now() - DAY_MS;
      }).length;

    // given a processor under a 2-day TTL and a table whose newest reading is of now
    await publisher.publish([registration('old-meter'), registration('fresh-meter')]);
    processor = await startEnergyProcessor(config, () => undefined);
    await publish([freshReading()]);

    // when a new meter's hour from ten days ago comes in order, QuestDB dropping the first
    // half's rows before the second half comes
    await publish(history.slice(0, 31));
    await untilOldRowsDropped();
    await publish(history.slice(31));
    await untilOldRowsDropped();

    // then its quarter hours are those of the whole hour in time order: the second half was
    // placed after the first, held in memory, not refused for want of the rows QuestDB dropped
    const timeline = DeviceTimeline.rebuild(
      'old-meter',
      history.map((e) => toEnergyReading(Date.parse(e.time), e.data)),
      DEFAULT_ENERGY_SETTINGS,
      { maxReadings: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER },
      'whole',
    );
    const expected = quarterHourStartsBetween(HOUR_START_MS, HOUR_START_MS + MINUTES * 60_000)
      .map((startMs) => timeline.quarterHour(startMs))
      .map((q) => [new Date(q.startMs).toISOString(), q.importWh, q.exportWh]);
    const stored = await oldQuarterHours();
    expect(stored).toEqual(expected);
    expect(stored.reduce((sum, [, importWh]) => sum + Number(importWh), 0)).toBeCloseTo(
      counterWh(MINUTES) - counterWh(0),
      6,
    );
    expect(await readTopic(config, 'dlq')).toEqual([]);
    const publishedBefore = await publishedOldQuarterHours();

    // when the processor restarts (its timelines gone) and a reading from the middle of that
    // hour arrives late, with one of now from the same meter
    await processor.stop();
    processor = await startEnergyProcessor(config, () => undefined);
    const lateMs = HOUR_START_MS + 30 * 60_000 + 30_000;
    const late = meterReading(lateMs, counterWh(30) + 5);
    await publish([late, meterReading(Date.now(), counterWh(MINUTES) + 500)]);

    // then the late reading is dead-lettered, saying why and what to do
    const letters = await readTopic(config, 'dlq');
    expect(letters).toHaveLength(1);
    const [letter] = letters;
    expect(JSON.parse(letter?.value ?? '{}')).toEqual(late.data);
    expect(letter?.headers[DlqHeader.stage]).toBe('process');
    const reason = letter?.headers[DlqHeader.error] ?? '';
    expect(reason).toContain(`old-meter at ${new Date(lateMs).toISOString()} cannot be placed`);
    expect(reason).toContain(`figures from ${new Date(HOUR_START_MS).toISOString()} on are kept`);
    expect(reason).toContain('2 days, GS_RETENTION_READINGS_TABLE_DAYS');
    // and the kept quarter hours of that hour are unchanged, and no correction was published
    expect(await oldQuarterHours()).toEqual(expected);
    expect(await publishedOldQuarterHours()).toBe(publishedBefore);

    // when the retention is raised to keep everything and the reading is sent again
    await processor.stop();
    processor = await startEnergyProcessor(
      { ...config, GS_RETENTION_READINGS_TABLE_DAYS: 0 },
      () => undefined,
    );
    await publish([late, meterReading(Date.now(), counterWh(MINUTES) + 900)]);

    // then it is refused again (raising the retention brought nothing back), and the kept
    // quarter hours are still unchanged
    const again = (await readTopic(config, 'dlq')).at(1);
    expect(JSON.parse(again?.value ?? '{}')).toEqual(late.data);
    expect(again?.headers[DlqHeader.error]).toContain('GS_RETENTION_READINGS_TABLE_DAYS=0');
    expect(await oldQuarterHours()).toEqual(expected);
    expect(await publishedOldQuarterHours()).toBe(publishedBefore);
  }, 240_000);
});
