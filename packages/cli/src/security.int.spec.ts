// The local stack runs with credentials on every server (docs/security.md): a client without
// them, or with a wrong password, is refused by each; the services' own login is let in.
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { questDbConnection, questDbHttp } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { createKafka, kafkaSettings } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { createQuestDbReader } from '@gridstream/questdb';
import { isolatedConfig } from '../../../test/support.ts';

/** The test run's configuration, which must carry the stack's passwords. */
function securedConfig(): Config & {
  GS_KAFKA_SASL_PASSWORD: string;
  GS_QDB_HTTP_PASSWORD: string;
  GS_MONGO_PASSWORD: string;
} {
  const config = isolatedConfig();
  const { GS_KAFKA_SASL_PASSWORD, GS_QDB_HTTP_PASSWORD, GS_MONGO_PASSWORD } = config;
  if (
    GS_KAFKA_SASL_PASSWORD === undefined ||
    GS_QDB_HTTP_PASSWORD === undefined ||
    GS_MONGO_PASSWORD === undefined
  )
    throw new Error(
      `the stack's passwords are missing: expected ${config.GS_HOME}/data/secrets/{kafka,questdb,mongo}.secret ` +
        '(deploy/local/stack.sh writes them on its first start) or GS_KAFKA_SASL_PASSWORD, GS_QDB_HTTP_PASSWORD and GS_MONGO_PASSWORD',
    );
  return { ...config, GS_KAFKA_SASL_PASSWORD, GS_QDB_HTTP_PASSWORD, GS_MONGO_PASSWORD };
}

/** What an admin client gets from describeCluster: 'ok' or the error's name and message. */
async function kafkaAnswer(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return 'ok';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function quietKafka(
  brokers: readonly string[],
  extra: Partial<ConstructorParameters<typeof Kafka>[0]> = {},
) {
  return new Kafka({
    clientId: 'test-security',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    authenticationTimeout: 3_000,
    retry: { retries: 1, initialRetryTime: 100 },
    ...extra,
  });
}

describe('Kafka', () => {
  it('refuses a client without a login, and one with a wrong password; lets the services in', async () => {
    const config = securedConfig();
    // when an anonymous client, a wrong password and the services' login ask for the cluster
    const anonymous = await kafkaAnswer(quietKafka(config.GS_KAFKA_BROKERS));
    const wrong = await kafkaAnswer(
      quietKafka(config.GS_KAFKA_BROKERS, {
        sasl: { mechanism: 'scram-sha-512', username: 'gridstream', password: 'not-the-password' },
      }),
    );
    const services = await kafkaAnswer(createKafka(kafkaSettings(config, 'test-security')));
    // then only the services' login is answered
    expect(anonymous).not.toBe('ok');
    expect(wrong).toMatch(/SASL|authentication/i);
    expect(services).toBe('ok');
  });
});

describe('QuestDB', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('refuses SQL and ILP over HTTP without credentials or with a wrong password', async () => {
    const { url, user, password } = questDbHttp(securedConfig());
    const sql = `${url}/exec?query=${encodeURIComponent('SELECT 1')}`;
    const table = `test_security_${Date.now().toString(36)}`;
    const line = `${table} v=1i ${Date.now() * 1_000_000}\n`;
    const write = (headers: Record<string, string>) =>
      fetch(`${url}/write`, { method: 'POST', body: line, headers });
    // when SQL and a line of ILP come without credentials, with a wrong password, and with the login
    const statuses = {
      sqlAnonymous: (await fetch(sql)).status,
      sqlWrong: (await fetch(sql, { headers: { authorization: basic('admin', 'nope') } })).status,
      ilpAnonymous: (await write({})).status,
      ilpWrong: (await write({ authorization: basic('admin', 'nope') })).status,
      sqlLogin: (
        await fetch(sql, { headers: { authorization: basic(user ?? '', password ?? '') } })
      ).status,
    };
    // then both are refused until the login is given; nothing was written anonymously
    expect(statuses).toEqual({
      sqlAnonymous: 401,
      sqlWrong: 401,
      ilpAnonymous: 401,
      ilpWrong: 401,
      sqlLogin: 200,
    });
    const tables = await fetch(
      `${url}/exec?query=${encodeURIComponent(`tables() where table_name = '${table}'`)}`,
      { headers: { authorization: basic(user ?? '', password ?? '') } },
    );
    expect(((await tables.json()) as { count: number }).count).toBe(0);
  });

  it('refuses PG wire with a wrong password or QuestDB default one', async () => {
    const connection = questDbConnection(securedConfig());
    const attempt = async (password: string) => {
      const reader = createQuestDbReader({ ...connection, password }, 1);
      try {
        await reader.query('SELECT 1');
        return 'ok';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await reader.close();
      }
    };
    expect(await attempt('quest')).not.toBe('ok');
    expect(await attempt('not-the-password')).not.toBe('ok');
    expect(await attempt(connection.password)).toBe('ok');
  });
});

describe('MongoDB (FerretDB)', () => {
  it('refuses writes to api_keys without a login or with a wrong password', async () => {
    const config = securedConfig();
    const outcome = async (client: MongoClient) => {
      try {
        await client
          .db(config.GS_MONGO_DB)
          .collection('api_keys')
          .insertOne({ _id: 'intruder' as never, tenant: 'evil' });
        return 'written';
      } catch (error) {
        return (error as { codeName?: string }).codeName ?? (error as Error).message;
      } finally {
        await client.close();
      }
    };
    const options = { serverSelectionTimeoutMS: 3_000 };
    // when an anonymous client and one with a wrong password write a key
    const anonymous = await outcome(new MongoClient(config.GS_MONGO_URL, options));
    const wrong = await outcome(
      new MongoClient(config.GS_MONGO_URL, {
        ...options,
        auth: { username: config.GS_MONGO_USERNAME, password: 'not-the-password' },
        authSource: config.GS_MONGO_AUTH_SOURCE,
      }),
    );
    // then both are refused, and the services' login finds no such key
    expect(anonymous).toBe('Unauthorized');
    expect(wrong).toBe('AuthenticationFailed');
    const mongo = await connectMongo(config);
    try {
      expect(await mongo.db.collection('api_keys').countDocuments({ tenant: 'evil' })).toBe(0);
    } finally {
      await mongo.db.dropDatabase();
      await mongo.close();
    }
  });
});
