import pg from 'pg';

export interface QuestDbPgSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** Reads (and runs DDL) over QuestDB's PostgreSQL wire protocol. */
export interface QuestDbReader {
  query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** QuestDB timestamps are UTC; pg would read them in the process's local time zone. */
const utcTimestamps = new pg.TypeOverrides();
utcTimestamps.setTypeParser(
  pg.types.builtins.TIMESTAMP,
  (value: string) => new Date(`${value.replace(' ', 'T')}Z`),
);

export function createQuestDbReader(settings: QuestDbPgSettings, poolSize = 4): QuestDbReader {
  const pool = new pg.Pool({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: 'qdb',
    max: poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    types: utcTimestamps,
  });
  // An idle client that loses its connection emits here; without a listener the process dies.
  pool.on('error', () => undefined);
  return {
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query<Row>(sql, [...params]);
      return result.rows;
    },
    async close() {
      await pool.end();
    },
  };
}
