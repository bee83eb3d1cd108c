import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  bufferReadingRows,
  createIlpSender,
  ensureReadingsTable,
  readingsTableName,
  waitForWalApplied,
} from './index.ts';
import { stackQuestDbReader } from '../../../test/support.ts';
import type { QuestDbReader, Sender } from './index.ts';

const table = readingsTableName(`test_${Date.now().toString(36)}_`);
let reader: QuestDbReader;
let sender: Sender;

beforeAll(async () => {
  reader = stackQuestDbReader();
  sender = await createIlpSender(inject('stack').qdbHttpUrl);
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
});
