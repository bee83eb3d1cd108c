import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPoison } from '@gridstream/errors';
import { isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import { questDbHttp } from '@gridstream/config';
import { createIlpGroupWriter, createIlpSender, waitForWalApplied } from './index.ts';
import type { IlpGroupWriter, QuestDbReader, Sender } from './index.ts';

const table = `test_${Date.now().toString(36)}_ilp_group`;
let reader: QuestDbReader;
let senders: Sender[];
let group: { readonly writer: IlpGroupWriter; close(): Promise<void> };

beforeAll(async () => {
  reader = stackQuestDbReader();
  const http = questDbHttp(isolatedConfig());
  senders = await Promise.all([1, 2, 3, 4].map(() => createIlpSender(http)));
  group = await createIlpGroupWriter(http, { maxInFlight: 1 });
  await reader.query(
    `CREATE TABLE "${table}" (ts TIMESTAMP, part SYMBOL, value DOUBLE) TIMESTAMP(ts) PARTITION BY DAY WAL`,
  );
});

afterAll(async () => {
  await reader.query(`DROP TABLE IF EXISTS "${table}"`);
  await Promise.all(senders.map((sender) => sender.close()));
  await group.close();
  await reader.close();
});

function fourSenders(): [Sender, Sender, Sender, Sender] {
  const [a, b, c, d] = senders;
  if (a === undefined || b === undefined || c === undefined || d === undefined)
    throw new Error('four senders');
  return [a, b, c, d];
}

const at = (batch: number, row: number) => Date.UTC(2026, 11, 6, batch, row) * 1000;

async function buffer(sender: Sender, batch: number, rows: number) {
  for (let row = 0; row < rows; row += 1) {
    await sender
      .table(table)
      .symbol('part', `b${batch}`)
      .floatColumn('value', batch * 1000 + row)
      .at(at(batch, row), 'us');
  }
}

async function storedCounts(): Promise<Record<string, number>> {
  await waitForWalApplied(reader, table);
  const rows = await reader.query<{ part: string; n: string | number }>(
    `SELECT part, count() n FROM "${table}" ORDER BY part`,
  );
  return Object.fromEntries(rows.map((r) => [r.part, Number(r.n)]));
}

describe('ILP group writer on the real QuestDB', () => {
  it("commits every batch's rows, several batches in one request", async () => {
    // given four batches, each with rows in a sender of its own, flushed at once
    const [a, b, c, d] = fourSenders();
    await buffer(a, 1, 100);
    await buffer(b, 2, 200);
    await buffer(c, 3, 300);
    await buffer(d, 4, 400);
    const before = { ...group.writer.stats };
    // when each is flushed through the group writer
    await Promise.all([a, b, c, d].map((sender) => group.writer.flush(sender)));
    // then all their rows are stored, in fewer requests than flushes
    expect(await storedCounts()).toEqual({ b1: 100, b2: 200, b3: 300, b4: 400 });
    const requests = group.writer.stats.requests - before.requests;
    expect(group.writer.stats.parts - before.parts).toBe(4);
    expect(requests).toBe(2);
  });

  it('fails only the batch whose row QuestDB refuses; the others are stored', async () => {
    const [a, b, c, d] = fourSenders();
    // given a batch holding a row QuestDB cannot store (a string in the DOUBLE column)
    await buffer(a, 5, 10);
    await buffer(b, 6, 20);
    await b
      .table(table)
      .symbol('part', 'b6')
      .stringColumn('value', 'not a number')
      .at(at(6, 59), 'us');
    await buffer(c, 7, 30);
    await buffer(d, 8, 40);
    // when it is flushed together with three good ones (the first goes out alone)
    const results = await Promise.allSettled(
      [a, b, c, d].map((sender) => group.writer.flush(sender)),
    );
    // then only its flush fails, as bad data, and every good batch's rows are stored once
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const refused = results[1];
    expect(refused?.status === 'rejected' && isPoison(refused.reason)).toBe(true);
    expect(group.writer.stats.resentAlone).toBe(3);
    const counts = await storedCounts();
    expect([counts.b5, counts.b7, counts.b8]).toEqual([10, 30, 40]);
    expect(counts.b6 ?? 0).toBeLessThanOrEqual(20);
  });
});
