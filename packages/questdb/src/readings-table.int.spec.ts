import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  bufferReadingRow,
  bufferReadingRows,
  createIlpSender,
  STORED_READING_COLUMNS,
  storedReadingFromRow,
  ensureReadingsTable,
  readingsTableName,
  waitForWalApplied,
} from './index.ts';
import { isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import { questDbHttp } from '@gridstream/config';
import type { QuestDbReader, Sender, StoredReading, StoredReadingRow } from './index.ts';

const table = readingsTableName(`test_${Date.now().toString(36)}_`);
let reader: QuestDbReader;
let sender: Sender;

beforeAll(async () => {
  reader = stackQuestDbReader();
  sender = await createIlpSender(questDbHttp(isolatedConfig()));
  await ensureReadingsTable(reader, table);
});

afterAll(async () => {
  await reader.query(`DROP TABLE IF EXISTS "${table}"`);
  await sender.close();
  await reader.close();
});

function reading(
  deviceId: string,
  time: string,
  powerW: number,
): { event: GridstreamEvent; partition: number; offset: string } {
  return {
    event: {
      id: `00000000-0000-7000-8000-${time.replace(/\D/g, '').slice(-12)}`,
      type: EventType.readingReported,
      source: 'test',
      subject: deviceId,
      time,
      tenant: 'acme',
      data: { deviceId, powerW, quality: 'good' },
    },
    partition: 0,
    offset: '0',
  };
}

describe('the readings table on the real QuestDB', () => {
  it('is created idempotently', async () => {
    await ensureReadingsTable(reader, table);
    const tables = await reader.query<{ table_name: string }>(
      'SELECT table_name FROM tables() WHERE table_name = $1',
      [table],
    );
    expect(tables).toHaveLength(1);
  });

  it('keeps one row per device and instant when a batch is written twice (DEDUP UPSERT KEYS)', async () => {
    // given a batch of readings flushed once
    const batch = [
      reading('p1', '2026-11-20T10:00:00Z', 1),
      reading('p1', '2026-11-20T10:00:01Z', 2),
      reading('p2', '2026-11-20T10:00:00Z', 3),
    ];
    expect(await bufferReadingRows(sender, table, batch)).toBe(3);
    await sender.flush();
    // when the same batch is flushed again, as after a crash before the offset commit
    await bufferReadingRows(sender, table, batch);
    await sender.flush();
    await waitForWalApplied(reader, table);
    // then each reading is stored once
    const rows = await reader.query<{ device_id: string; n: string }>(
      `SELECT device_id, count() n FROM "${table}" GROUP BY device_id ORDER BY device_id`,
    );
    expect(rows.map((r) => [r.device_id, Number(r.n)])).toEqual([
      ['p1', 2],
      ['p2', 1],
    ]);
  });

  it('lets a later write of the same device and instant replace the row', async () => {
    await bufferReadingRows(sender, table, [reading('p3', '2026-11-20T11:00:00Z', 5)]);
    await sender.flush();
    await bufferReadingRows(sender, table, [reading('p3', '2026-11-20T11:00:00Z', 7)]);
    await sender.flush();
    await waitForWalApplied(reader, table);
    const rows = await reader.query<{ power_w: number }>(
      `SELECT power_w FROM "${table}" WHERE device_id = 'p3'`,
    );
    expect(rows).toEqual([{ power_w: 7 }]);
  });

  it.each([
    { doubles: 'in binary (protocol 2 and later)', protocol: 'auto', hour: 12 },
    { doubles: 'as text (protocol 1)', protocol: '1', hour: 13 },
  ] as const)(
    'stores a whole reading row, with its energy and text that ILP must escape, as written, doubles $doubles',
    async ({ protocol, hour }) => {
      const sender = await createIlpSender(questDbHttp(isolatedConfig()), protocol);
      const at = `2026-11-20T${hour}:00:00Z`;
      // given readings with every column, numbers ILP writes in exponent form, and names and an
      // event id full of ILP's special characters
      const full: StoredReading = {
        tenant: 'acme',
        deviceId: 'a b,c=d\\e',
        timeMs: Date.parse(at),
        powerW: -0.5,
        importWh: 1e21,
        exportWh: 1e-7,
        voltageV: 230.1,
        currentA: 4.25,
        phasePowersW: { l1: 100, l2: -50.5, l3: 0 },
        socPct: 55,
        temperatureC: -12.75,
        quality: 'estimated',
        eventId: 'say "hi", then = \\ and\nnext line',
        kafkaPartition: 3,
        kafkaOffset: 9_007_199_254,
      };
      const first: StoredReading = {
        ...full,
        deviceId: 'plain',
        timeMs: full.timeMs + 1000,
        phasePowersW: undefined,
        voltageV: undefined,
      };
      const energy = {
        startMs: full.timeMs - 10_000,
        importWh: 2.5e-3,
        exportWh: 0,
        method: 'power' as const,
        flags: ['gap' as const, 'import_reset' as const],
        quality: 'bad' as const,
        phases: { l1: { importWh: 1, exportWh: 0 }, l3: { importWh: 0, exportWh: 0.125 } },
      };
      // when they are written over ILP, one with its interval's energy, one as its device's first
      expect(sender.binaryDoubles).toBe(protocol === 'auto');
      bufferReadingRow(sender, table, full, energy);
      bufferReadingRow(sender, table, first, null);
      await sender.flush();
      await sender.close();
      await waitForWalApplied(reader, table);
      // then each reads back as written
      const rows = await reader.query<
        StoredReadingRow & {
          delta_from: Date | null;
          delta_import_wh: number | null;
          delta_export_wh: number | null;
          delta_method: string;
          delta_flags: string | null;
          delta_quality: string | null;
          delta_l1_import_wh: number | null;
          delta_l2_import_wh: number | null;
          delta_l3_export_wh: number | null;
        }
      >(
        `SELECT ${STORED_READING_COLUMNS}, delta_from, delta_import_wh, delta_export_wh, delta_method,
         delta_flags, delta_quality, delta_l1_import_wh, delta_l2_import_wh, delta_l3_export_wh
       FROM "${table}" WHERE ts >= '${at}' AND ts < dateadd('h', 1, '${at}') ORDER BY ts`,
      );
      expect(rows.map(storedReadingFromRow)).toEqual([full, first]);
      expect(
        rows.map((r) => [
          r.delta_from?.getTime(),
          r.delta_import_wh,
          r.delta_export_wh,
          r.delta_method,
          r.delta_flags,
          r.delta_quality,
          r.delta_l1_import_wh,
          r.delta_l2_import_wh,
          r.delta_l3_export_wh,
        ]),
      ).toEqual([
        [energy.startMs, 2.5e-3, 0, 'power', 'gap,import_reset', 'bad', 1, null, 0.125],
        [undefined, null, null, 'first', null, null, null, null, null],
      ]);
    },
  );
});
