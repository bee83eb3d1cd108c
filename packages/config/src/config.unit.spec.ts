import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  consumerSettings,
  loadConfig,
  questDbConnection,
  questDbHttp,
} from './index.ts';

/** A GS_HOME without secrets: the defaults a machine without the local stack gets. */
function emptyHome(): string {
  return mkdtempSync(join(tmpdir(), 'gs-config-'));
}

/** A GS_HOME with the secrets deploy/local/stack.sh writes. */
function homeWithSecrets(secrets: Record<string, string>): string {
  const home = emptyHome();
  mkdirSync(join(home, 'data/secrets'), { recursive: true });
  for (const [name, value] of Object.entries(secrets))
    writeFileSync(join(home, 'data/secrets', `${name}.secret`), `${value}\n`);
  return home;
}

/** Runs `loadConfig` expecting it to refuse the environment, and returns the problems listed. */
function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('points at the ports deploy/local/stack.sh starts the stack on', () => {
    // given an empty environment
    // when the configuration is loaded
    const config = loadConfig({});
    // then every address matches deploy/local's defaults
    expect(config.GS_KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.GS_QDB_HTTP_URL).toBe('http://127.0.0.1:9000');
    expect(config.GS_QDB_PG_HOST).toBe('127.0.0.1');
    expect(config.GS_QDB_PG_PORT).toBe(8812);
    expect(config.GS_MONGO_URL).toBe('mongodb://127.0.0.1:27017/');
  });

  it('fills the non-address settings with their documented defaults', () => {
    const config = loadConfig({ GS_HOME: emptyHome() });
    expect(config).toMatchObject({
      GS_KAFKA_CLIENT_ID: 'gridstream',
      GS_TOPIC_PREFIX: 'gridstream.',
      GS_TOPIC_PARTITIONS: 6,
      GS_QDB_PG_USER: 'admin',
      GS_QDB_PG_PASSWORD: undefined,
      GS_KAFKA_SASL_PASSWORD: undefined,
      GS_QDB_HTTP_PASSWORD: undefined,
      GS_MONGO_PASSWORD: undefined,
      GS_QDB_TABLE_PREFIX: '',
      GS_MONGO_DB: 'gridstream',
      GS_API_HOST: '127.0.0.1',
      GS_API_PORT: 8080,
      GS_LOG_LEVEL: 'info',
    });
    // every consumer group waits 10 s for a member that is gone (kafkajs alone: 30 s)
    expect(consumerSettings(config)).toMatchObject({
      sessionTimeoutMs: 10_000,
      maxBatchMs: 300_000,
      maxAttempts: 5,
    });
  });

  it('ignores environment variables that are not its own', () => {
    const config = loadConfig({ PATH: '/usr/bin', HOME: '/root', GS_UNKNOWN: 'x' });
    expect(Object.keys(config)).not.toContain('PATH');
    expect(Object.keys(config)).not.toContain('GS_UNKNOWN');
  });

  it('turns numeric settings into numbers', () => {
    // given numbers as environment strings
    const config = loadConfig({
      GS_API_PORT: '0',
      GS_TOPIC_PARTITIONS: '12',
      GS_QDB_PG_PORT: '18812',
    });
    // then they come back as numbers; port 0 means any free port
    expect(config.GS_API_PORT).toBe(0);
    expect(config.GS_TOPIC_PARTITIONS).toBe(12);
    expect(config.GS_QDB_PG_PORT).toBe(18812);
  });
});

describe('loadConfig honours the stack port variables', () => {
  it('moves the Kafka bootstrap address with GS_KAFKA_PORT', () => {
    expect(loadConfig({ GS_KAFKA_PORT: '19092' }).GS_KAFKA_BROKERS).toEqual(['127.0.0.1:19092']);
  });

  it('moves the QuestDB HTTP URL with GS_QDB_HTTP_PORT', () => {
    expect(loadConfig({ GS_QDB_HTTP_PORT: '19000' }).GS_QDB_HTTP_URL).toBe(
      'http://127.0.0.1:19000',
    );
  });

  it('moves the MongoDB URL with GS_MONGO_PORT', () => {
    expect(loadConfig({ GS_MONGO_PORT: '37017' }).GS_MONGO_URL).toBe('mongodb://127.0.0.1:37017/');
  });

  it('lets an explicit address win over the port variable', () => {
    // given both a port variable and an explicit address for each store
    const config = loadConfig({
      GS_KAFKA_PORT: '19092',
      GS_KAFKA_BROKERS: 'kafka-1:9092',
      GS_QDB_HTTP_PORT: '19000',
      GS_QDB_HTTP_URL: 'http://questdb:9000',
      GS_MONGO_PORT: '37017',
      GS_MONGO_URL: 'mongodb://mongo:27017/',
    });
    // then the explicit addresses are used as given
    expect(config.GS_KAFKA_BROKERS).toEqual(['kafka-1:9092']);
    expect(config.GS_QDB_HTTP_URL).toBe('http://questdb:9000');
    expect(config.GS_MONGO_URL).toBe('mongodb://mongo:27017/');
  });

  // A port variable that is not a port must be refused and blamed on itself, not silently
  // baked into an address (http://127.0.0.1:abc) or blamed on a variable the user never set.
  it.each([
    ['GS_KAFKA_PORT', 'abc'],
    ['GS_QDB_HTTP_PORT', 'abc'],
    ['GS_MONGO_PORT', '27017x'],
  ])('refuses %s=%s and names that variable', (variable, value) => {
    // given a derived-default port variable that is not a port
    // when the configuration is loaded
    const problems = problemsOf({ [variable]: value });
    // then exactly one problem names the variable and the value given
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
    expect(problems[0]).toContain(JSON.stringify(value));
  });
});

describe('loadConfig broker list', () => {
  it('splits a comma-separated list and trims the spaces around each broker', () => {
    const config = loadConfig({ GS_KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9093 ,kafka-3:9094' });
    expect(config.GS_KAFKA_BROKERS).toEqual(['kafka-1:9092', 'kafka-2:9093', 'kafka-3:9094']);
  });

  it('accepts a single broker', () => {
    expect(loadConfig({ GS_KAFKA_BROKERS: '10.0.0.7:29092' }).GS_KAFKA_BROKERS).toEqual([
      '10.0.0.7:29092',
    ]);
  });

  it.each(['kafka-1', 'kafka-1:9092,', 'kafka-1:92a', 'kafka 1:9092'])(
    'refuses %j with a problem on GS_KAFKA_BROKERS',
    (brokers) => {
      const problems = problemsOf({ GS_KAFKA_BROKERS: brokers });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^GS_KAFKA_BROKERS: /);
      expect(problems[0]).toContain(JSON.stringify(brokers));
    },
  );

  it('reports a list with several bad brokers as one problem line', () => {
    // given a broker list in which two entries lack a port
    // when the configuration is loaded
    const problems = problemsOf({ GS_KAFKA_BROKERS: 'kafka-1,kafka-2' });
    // then the one bad variable gives one line, not one per bad entry
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^GS_KAFKA_BROKERS: /);
  });
});

describe('loadConfig errors', () => {
  it('lists one line per bad variable, each naming the variable and the value given', () => {
    // given two bad variables and one good one
    const env = { GS_API_PORT: 'abc', GS_LOG_LEVEL: 'loud', GS_MONGO_DB: 'fine' };
    // when the configuration is loaded
    const problems = problemsOf(env);
    // then there are two problems, one per bad variable, each quoting the value given
    expect(problems).toHaveLength(2);
    const apiPort = problems.find((p) => p.startsWith('GS_API_PORT: '));
    const logLevel = problems.find((p) => p.startsWith('GS_LOG_LEVEL: '));
    expect(apiPort).toContain('"abc"');
    expect(logLevel).toContain('"loud"');
  });

  it('puts every problem in the message, one per line', () => {
    try {
      loadConfig({ GS_API_PORT: 'abc', GS_LOG_LEVEL: 'loud' });
      expect.unreachable('loadConfig accepted a bad environment');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const { message, name } = error as ConfigError;
      expect(name).toBe('ConfigError');
      const lines = message.split('\n');
      expect(lines[0]).toBe('invalid configuration:');
      expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual(
        expect.arrayContaining(['GS_API_PORT', 'GS_LOG_LEVEL']),
      );
      expect(lines).toHaveLength(3);
    }
  });

  it.each([
    ['GS_API_PORT', '65536'],
    ['GS_API_PORT', '80.5'],
    ['GS_QDB_PG_PORT', '0'],
    ['GS_TOPIC_PARTITIONS', '0'],
    ['GS_TOPIC_PARTITIONS', '2000'],
    ['GS_ENERGY_WORKERS', '0'],
    ['GS_ENERGY_FETCH_BYTES', '1024'],
    ['GS_CONSUMER_MAX_BATCH_MS', '3000000000'],
    ['GS_CONSUMER_MAX_IDLE_MS', '1000'],
    ['GS_CONSUMER_SESSION_TIMEOUT_MS', '5000'],
    ['GS_TOPIC_PREFIX', 'grid stream'],
    ['GS_QDB_TABLE_PREFIX', 'Upper_'],
    ['GS_QDB_HTTP_URL', 'not a url'],
    ['GS_MONGO_URL', 'http://127.0.0.1:27017/'],
    ['GS_MONGO_DB', 'has.dot'],
  ])('refuses %s=%j naming the variable and the value', (variable, value) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
    expect(problems[0]).toContain(`(got ${JSON.stringify(value)})`);
  });

  it('treats an empty variable as unset, so GS_API_PORT= does not become port 0', () => {
    const config = loadConfig({ GS_API_PORT: '', GS_KAFKA_BROKERS: '', GS_KAFKA_CLIENT_ID: '' });
    expect(config.GS_API_PORT).toBe(8080);
    expect(config.GS_KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.GS_KAFKA_CLIENT_ID).toBe('gridstream');
  });
});

describe('loadConfig credentials', () => {
  it("takes the local stack's passwords from GS_HOME/data/secrets when none is set", () => {
    // given a GS_HOME with the stack's secrets
    const home = homeWithSecrets({ kafka: 'k-pw', questdb: 'q-pw', mongo: 'm-pw' });
    // when the configuration is loaded without passwords in the environment
    const config = loadConfig({ GS_HOME: home });
    // then each server's password is the stack's, without the file's newline
    expect(config.GS_KAFKA_SASL_PASSWORD).toBe('k-pw');
    expect(config.GS_MONGO_PASSWORD).toBe('m-pw');
    expect(questDbHttp(config)).toEqual({
      url: 'http://127.0.0.1:9000',
      user: 'admin',
      password: 'q-pw',
    });
    expect(questDbConnection(config)).toMatchObject({ user: 'admin', password: 'q-pw' });
  });

  it('lets passwords in the environment win over the files', () => {
    const home = homeWithSecrets({ kafka: 'k-pw', questdb: 'q-pw', mongo: 'm-pw' });
    const config = loadConfig({
      GS_HOME: home,
      GS_KAFKA_SASL_PASSWORD: 'env-k',
      GS_QDB_HTTP_PASSWORD: 'env-qh',
      GS_QDB_PG_PASSWORD: 'env-qp',
      GS_MONGO_PASSWORD: 'env-m',
    });
    expect(config.GS_KAFKA_SASL_PASSWORD).toBe('env-k');
    expect(questDbHttp(config).password).toBe('env-qh');
    expect(questDbConnection(config).password).toBe('env-qp');
    expect(config.GS_MONGO_PASSWORD).toBe('env-m');
  });

  it("sends no QuestDB HTTP credentials without a password, and PG wire QuestDB's default", () => {
    const config = loadConfig({ GS_HOME: emptyHome() });
    expect(questDbHttp(config)).toEqual({ url: 'http://127.0.0.1:9000' });
    expect(questDbConnection(config)).toMatchObject({ user: 'admin', password: 'quest' });
  });

  it('refuses a SASL mechanism it does not know, naming the variable', () => {
    const problems = problemsOf({ GS_HOME: emptyHome(), GS_KAFKA_SASL_MECHANISM: 'gssapi' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^GS_KAFKA_SASL_MECHANISM: /);
  });
});
