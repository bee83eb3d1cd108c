import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();

/**
 * Every setting, its environment variable and its default. Defaults match deploy/local, whose
 * port variables (GS_KAFKA_PORT, GS_QDB_HTTP_PORT, ...) are honoured here too, so one set of
 * variables moves the stack and the services together.
 */
function schema(env: NodeJS.ProcessEnv) {
  const kafkaPort = env['GS_KAFKA_PORT'] ?? '9092';
  const qdbHttpPort = env['GS_QDB_HTTP_PORT'] ?? '9000';
  const mongoPort = env['GS_MONGO_PORT'] ?? '27017';
  return z.object({
    GS_KAFKA_BROKERS: z
      .string()
      .default(`127.0.0.1:${kafkaPort}`)
      .transform((s) => s.split(',').map((b) => b.trim()))
      .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'host:port, comma separated')).min(1)),
    GS_KAFKA_CLIENT_ID: z.string().min(1).default('gridstream'),
    GS_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ - only')
      .default('gridstream.'),
    GS_TOPIC_PARTITIONS: positiveInt.max(1024).default(6),
    GS_QDB_HTTP_URL: z.url().default(`http://127.0.0.1:${qdbHttpPort}`),
    GS_QDB_PG_HOST: z.string().min(1).default('127.0.0.1'),
    GS_QDB_PG_PORT: port.default(Number(env['GS_QDB_PG_PORT'] ?? 8812)),
    GS_QDB_PG_USER: z.string().min(1).default('admin'),
    GS_QDB_PG_PASSWORD: z.string().default('quest'),
    GS_QDB_TABLE_PREFIX: z
      .string()
      .regex(/^[a-z0-9_]*$/, 'lower-case letters, digits and _ only')
      .default(''),
    GS_MONGO_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL')
      .default(`mongodb://127.0.0.1:${mongoPort}/`),
    GS_MONGO_DB: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, 'a database name: letters, digits, _ and -')
      .default('gridstream'),
    GS_API_HOST: z.string().min(1).default('127.0.0.1'),
    GS_API_PORT: z.coerce
      .number()
      .int()
      .min(0, '0 (any free port) to 65535')
      .max(65535)
      .default(8080),
    GS_LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    GS_BATCH_MAX_READINGS: positiveInt.max(100_000).default(1000),
  });
}

export type Config = z.infer<ReturnType<typeof schema>>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses the environment; throws a ConfigError with one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema(env).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '(environment)');
    const given = env[variable];
    return `${variable}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`;
  });
  throw new ConfigError(problems);
}

/** For process entry points: prints the problems and exits 78 (EX_CONFIG) instead of a stack trace. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`gridstream: ${error.message}\n`);
    process.exit(78);
  }
}
