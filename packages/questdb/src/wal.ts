import { GridstreamError } from '@gridstream/errors';
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
 * here until every transaction committed to the table before the call is applied.
 *
 * It waits for the sequencer's position seen at the first look, not for a moment with nothing
 * pending: while other writers keep committing (other partitions' batches, other instances),
 * that moment may not come for a long time, and the caller would stall with it.
 */
export async function waitForWalApplied(
  reader: QuestDbReader,
  table: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let target: bigint | undefined;
  for (;;) {
    const rows = await reader.query<WalTableRow>(
      'SELECT name, suspended, writerTxn, sequencerTxn FROM wal_tables() WHERE name = $1',
      [table],
    );
    const row = rows[0];
    if (row?.suspended) throw new Error(`QuestDB table ${table} is suspended; see the QuestDB log`);
    if (row !== undefined) {
      target ??= BigInt(row.sequencerTxn);
      if (BigInt(row.writerTxn) >= target) return;
    }
    if (Date.now() > deadline)
      throw new GridstreamError(
        'DEPENDENCY_UNAVAILABLE',
        `QuestDB table ${table}: WAL not applied within ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
