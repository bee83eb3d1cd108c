import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

/** Where the real servers of a test run listen. */
export interface StackEndpoints {
  readonly kafkaBrokers: readonly string[];
  readonly qdbHttpUrl: string;
  readonly qdbPgHost: string;
  readonly qdbPgPort: number;
  readonly mongoUrl: string;
}

async function answers(name: string, probe: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await probe();
    return undefined;
  } catch (error) {
    return `${name}: ${(error as Error).message}`;
  }
}

/** Asks each server one cheap question; returns a line for each that did not answer. */
export async function probeStack(endpoints: StackEndpoints): Promise<string[]> {
  const results = await Promise.all([
    answers(`Kafka at ${endpoints.kafkaBrokers.join(',')}`, async () => {
      const admin = new Kafka({
        brokers: [...endpoints.kafkaBrokers],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 3000,
        retry: { retries: 2 },
      }).admin();
      await admin.connect();
      try {
        await admin.describeCluster();
      } finally {
        await admin.disconnect();
      }
    }),
    answers(`QuestDB at ${endpoints.qdbHttpUrl}`, async () => {
      const response = await fetch(
        `${endpoints.qdbHttpUrl}/exec?query=${encodeURIComponent('SELECT 1')}`,
        {
          signal: AbortSignal.timeout(3000),
        },
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    }),
    answers(`MongoDB-compatible server at ${endpoints.mongoUrl}`, async () => {
      const client = new MongoClient(endpoints.mongoUrl, { serverSelectionTimeoutMS: 3000 });
      try {
        await client.db('admin').command({ ping: 1 });
      } finally {
        await client.close();
      }
    }),
  ]);
  return results.filter((r): r is string => r !== undefined);
}
