import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig } from '@gridstream/config';
import type { Config } from '@gridstream/config';

/** A short random suffix that is valid in topic, table, collection and database names. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/**
 * A config pointing at the test run's real servers, with topic prefix, QuestDB table prefix and
 * MongoDB database unique to the caller, so tests never see each other's data.
 */
export function isolatedConfig(overrides: Partial<Record<string, string>> = {}): Config {
  const stack = inject('stack');
  const suffix = uniqueSuffix();
  return loadConfig({
    GS_KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    GS_KAFKA_CLIENT_ID: `test-${suffix}`,
    GS_TOPIC_PREFIX: `test-${suffix}.`,
    GS_TOPIC_PARTITIONS: '3',
    GS_QDB_HTTP_URL: stack.qdbHttpUrl,
    GS_QDB_PG_HOST: stack.qdbPgHost,
    GS_QDB_PG_PORT: String(stack.qdbPgPort),
    GS_QDB_TABLE_PREFIX: `test_${suffix}_`,
    GS_MONGO_URL: stack.mongoUrl,
    GS_MONGO_DB: `test_${suffix}`,
    GS_API_PORT: '0',
    GS_LOG_LEVEL: 'silent',
    ...overrides,
  });
}

/** Polls until `probe` returns a value (not undefined) or the time is up; never a fixed sleep. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : `; last error: ${(lastError as Error).message}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
