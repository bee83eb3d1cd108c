import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

/** Where the real servers of a test run listen. */
export interface StackEndpoints {
  readonly kafkaBrokers: readonly string[];
  readonly qdbHttpUrl: string;
  readonly qdbPgHost: string;
  readonly qdbPgPort: number;
  readonly mongoUrl: string;
  /**
   * The variables that give a client the servers' logins: GS_HOME (the local stack keeps its
   * passwords there) and any credentials set in the test run's environment.
   */
  readonly loginEnv: Readonly<Record<string, string>>;
}

/** The settings of @gridstream/config that carry logins (docs/security.md). */
export const LOGIN_VARIABLES = [
  'GS_HOME',
  'GS_KAFKA_SASL_MECHANISM',
  'GS_KAFKA_SASL_USERNAME',
  'GS_KAFKA_SASL_PASSWORD',
  'GS_KAFKA_TLS',
  'GS_KAFKA_TLS_CA_FILE',
  'GS_QDB_HTTP_USER',
  'GS_QDB_HTTP_PASSWORD',
  'GS_QDB_PG_USER',
  'GS_QDB_PG_PASSWORD',
  'GS_MONGO_USERNAME',
  'GS_MONGO_PASSWORD',
  'GS_MONGO_AUTH_SOURCE',
] as const;

/** The login variables set in `env`. */
export function loginEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of LOGIN_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

async function answers(name: string, probe: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await probe();
    return undefined;
  } catch (error) {
    return `${name}: ${(error as Error).message}`;
  }
}

/** The logins of a secured stack (the local one: deploy/local keeps them in GS_HOME). */
export interface StackLogins {
  readonly kafka?: { mechanism: 'scram-sha-512'; username: string; password: string } | undefined;
  readonly questdb?: { user: string; password: string } | undefined;
  readonly mongo?: { username: string; password: string; authSource: string } | undefined;
}

/** Asks each server one cheap question; returns a line for each that did not answer. */
export async function probeStack(
  endpoints: StackEndpoints,
  logins: StackLogins = {},
): Promise<string[]> {
  const results = await Promise.all([
    answers(`Kafka at ${endpoints.kafkaBrokers.join(',')}`, async () => {
      const admin = new Kafka({
        brokers: [...endpoints.kafkaBrokers],
        ...(logins.kafka === undefined ? {} : { sasl: logins.kafka }),
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
          headers:
            logins.questdb === undefined
              ? {}
              : {
                  authorization: `Basic ${Buffer.from(`${logins.questdb.user}:${logins.questdb.password}`).toString('base64')}`,
                },
        },
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    }),
    answers(`MongoDB-compatible server at ${endpoints.mongoUrl}`, async () => {
      const client = new MongoClient(endpoints.mongoUrl, {
        serverSelectionTimeoutMS: 3000,
        ...(logins.mongo === undefined
          ? {}
          : {
              auth: { username: logins.mongo.username, password: logins.mongo.password },
              authSource: logins.mongo.authSource,
            }),
      });
      try {
        // ping answers anyone; listing databases needs the login
        await client.db('admin').command({ listDatabases: 1, nameOnly: true });
      } finally {
        await client.close();
      }
    }),
  ]);
  return results.filter((r): r is string => r !== undefined);
}
