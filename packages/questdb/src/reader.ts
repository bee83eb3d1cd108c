import pg from 'pg';
import { GridstreamError } from '@gridstream/errors';

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

/** How long a query may take before it counts as QuestDB not answering. */
export const QUERY_TIMEOUT_MS = 30_000;

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
    // node-postgres waits forever for an answer by default: a query QuestDB never answers would
    // stall a consumer's batch silently. A timeout turns that into a transient error, retried.
    query_timeout: QUERY_TIMEOUT_MS,
    types: utcTimestamps,
  });
  // An idle client that loses its connection emits here; without a listener the process dies.
  pool.on('error', () => undefined);
  return {
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      try {
        const result = await pool.query<Row>(sql, [...params]);
        return result.rows;
      } catch (error) {
        if (error instanceof Error && error.message === 'Query read timeout') {
          throw new GridstreamError(
            'DEPENDENCY_UNAVAILABLE',
            `QuestDB did not answer within ${QUERY_TIMEOUT_MS} ms: ${sql.slice(0, 80)}`,
            { cause: error },
          );
        }
        // node-postgres's words for a connection not made within connectionTimeoutMillis (a
        // frozen QuestDB accepts the TCP connection and never answers), and for one QuestDB
        // dropped (stopped mid-query): outages, not failures of the batch.
        if (
          error instanceof Error &&
          /^(timeout exceeded when trying to connect|Connection terminated)/.test(error.message)
        ) {
          throw new GridstreamError('DEPENDENCY_UNAVAILABLE', `QuestDB: ${error.message}`, {
            cause: error,
          });
        }
        throw error;
      }
    },
    async close() {
      await pool.end();
    },
  };
}
