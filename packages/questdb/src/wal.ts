import type { QuestDbReader } from './reader.ts';

interface WalTableRow {
  name: string;
  suspended: boolean;
  writerTxn: string | number;
  sequencerTxn: string | number;
}

/**
 * QuestDB applies WAL writes asynchronously: an acknowledged write may not be visible to a
 * query yet. Anything that must read its own writes (state rebuilt from QuestDB, tests) waits
 * here until every committed transaction of the table is applied.
 */
export async function waitForWalApplied(
  reader: QuestDbReader,
  table: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await reader.query<WalTableRow>(
      'SELECT name, suspended, writerTxn, sequencerTxn FROM wal_tables() WHERE name = $1',
      [table],
    );
    const row = rows[0];
    if (row?.suspended) throw new Error(`QuestDB table ${table} is suspended; see the QuestDB log`);
    if (row !== undefined && BigInt(row.writerTxn) >= BigInt(row.sequencerTxn)) return;
    if (Date.now() > deadline)
      throw new Error(`QuestDB table ${table}: WAL not applied within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
