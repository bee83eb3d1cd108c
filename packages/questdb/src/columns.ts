import type { QuestDbReader } from './reader.ts';

/**
 * Adds the columns a table lacks (a table created by an older schema version). QuestDB refuses
 * `ADD COLUMN IF NOT EXISTS` on a WAL table when the column exists ("statement is a no-op"), so
 * the existing columns are read first. Two instances racing here can both try to add a column;
 * the loser's error is ignored if the column is then present.
 */
export async function addMissingColumns(
  reader: QuestDbReader,
  table: string,
  columns: readonly (readonly [name: string, type: string])[],
): Promise<void> {
  const present = async () =>
    new Set(
      (
        await reader.query<{ column: string }>(`SELECT "column" FROM table_columns('${table}')`)
      ).map((row) => row.column),
    );
  const existing = await present();
  for (const [name, type] of columns) {
    if (existing.has(name)) continue;
    try {
      await reader.query(`ALTER TABLE "${table}" ADD COLUMN ${name} ${type}`);
    } catch (error) {
      if (!(await present()).has(name)) throw error;
    }
  }
}
