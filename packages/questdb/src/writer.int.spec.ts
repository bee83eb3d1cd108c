import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import { questDbHttp } from '@gridstream/config';
import { createIlpSender, waitForWalApplied } from './index.ts';
import type { QuestDbReader, Sender } from './index.ts';

const table = `test_${Date.now().toString(36)}_ilp_escaping`;
let reader: QuestDbReader;
let sender: Sender;

beforeAll(async () => {
  reader = stackQuestDbReader();
  sender = await createIlpSender(questDbHttp(isolatedConfig()));
});

afterAll(async () => {
  await reader.query(`DROP TABLE IF EXISTS "${table}"`);
  await sender.close();
  await reader.close();
});

describe('ILP writes on the real QuestDB (with the escaping fast path patched into the client)', () => {
  it('store names and values with and without characters ILP must escape, unchanged', async () => {
    // given symbols and strings that need no escaping, and ones full of ILP's special characters
    const values = [
      ['plain-symbol', 'plain string'],
      ['a b,c=d\\e', 'say "hi", then = \\ and\nnext line'],
      ['zählerstand', 'Größe ≥ 5 kWh'],
    ] as const;
    await reader.query(
      `CREATE TABLE "${table}" (ts TIMESTAMP, tag SYMBOL, note VARCHAR) TIMESTAMP(ts) PARTITION BY DAY WAL`,
    );
    // when they are written over ILP/HTTP
    for (const [i, [tag, note]] of values.entries()) {
      await sender
        .table(table)
        .symbol('tag', tag)
        .stringColumn('note', note)
        .at(Date.UTC(2026, 10, 24, 0, 0, i) * 1000, 'us');
    }
    await sender.flush();
    await waitForWalApplied(reader, table);
    // then each reads back exactly as written
    const rows = await reader.query<{ tag: string; note: string }>(
      `SELECT tag, note FROM "${table}" ORDER BY ts`,
    );
    expect(rows.map((r) => [r.tag, r.note])).toEqual(values.map((v) => [...v]));
  });
});
