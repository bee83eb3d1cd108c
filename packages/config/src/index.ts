import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RETENTION_SETTINGS, retentionProblems } from './retention.ts';

export * from './retention.ts';

/** The local stack's home by default (deploy/local/stack.sh): <repo>/.gridstream. */
const DEFAULT_HOME = join(dirname(fileURLToPath(import.meta.url)), '../../../.gridstream');

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();

/**
 * The ports of deploy/local. They are settings of their own (the stack script reads them
 * too), and they supply the defaults of the addresses below, so one set of variables moves
 * the stack and the services together.
 */
const StackPorts = z.object({
  GS_KAFKA_PORT: port.default(9092),
  GS_QDB_HTTP_PORT: port.default(9000),
  GS_QDB_PG_PORT: port.default(8812),
  GS_MONGO_PORT: port.default(27017),
});

function settings(ports: z.infer<typeof StackPorts>) {
  return z.object({
    GS_KAFKA_BROKERS: z
      .string()
      .default(`127.0.0.1:${ports.GS_KAFKA_PORT}`)
      .transform((s) => s.split(',').map((b) => b.trim()))
      .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'host:port, comma separated')).min(1)),
    GS_KAFKA_CLIENT_ID: z.string().min(1).default('gridstream'),
    /**
     * Kafka's SASL login (docs/security.md). With a password (given, or the local stack's in
     * GS_HOME/data/secrets/kafka.secret) clients log in with this mechanism, SCRAM-SHA-512 unless
     * set; without one they connect anonymously, which a secured cluster refuses.
     */
    GS_KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    GS_KAFKA_SASL_USERNAME: z.string().min(1).default('gridstream'),
    GS_KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
    /** TLS to the brokers, checked against the system's CAs or GS_KAFKA_TLS_CA_FILE (PEM). */
    GS_KAFKA_TLS: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    GS_KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
    /**
     * What of kafkajs's own logging reaches the service's log: `warn` (and errors) by default;
     * `info` adds joins and pauses, `debug` every request, for finding where a client stuck.
     */
    GS_KAFKA_LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('warn'),
    GS_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ - only')
      .default('gridstream.'),
    GS_TOPIC_PARTITIONS: positiveInt.max(1024).default(6),
    GS_QDB_HTTP_URL: z.url().default(`http://127.0.0.1:${ports.GS_QDB_HTTP_PORT}`),
    /**
     * QuestDB's HTTP basic auth (REST and ILP over HTTP); no password, no credentials sent. The
     * password defaults to the local stack's (GS_HOME/data/secrets/questdb.secret), as does PG
     * wire's; PG wire falls back to QuestDB's own default, admin/quest.
     */
    GS_QDB_HTTP_USER: z.string().min(1).default('admin'),
    GS_QDB_HTTP_PASSWORD: z.string().min(1).optional(),
    GS_QDB_PG_HOST: z.string().min(1).default('127.0.0.1'),
    GS_QDB_PG_PORT: port.default(ports.GS_QDB_PG_PORT),
    GS_QDB_PG_USER: z.string().min(1).default('admin'),
    GS_QDB_PG_PASSWORD: z.string().optional(),
    GS_QDB_TABLE_PREFIX: z
      .string()
      .regex(/^[a-z0-9_]*$/, 'lower-case letters, digits and _ only')
      .default(''),
    GS_MONGO_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL')
      .default(`mongodb://127.0.0.1:${ports.GS_MONGO_PORT}/`),
    GS_MONGO_DB: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, 'a database name: letters, digits, _ and -')
      .default('gridstream'),
    /**
     * The MongoDB login, SCRAM; without a password (given, or the local stack's in
     * GS_HOME/data/secrets/mongo.secret) none, unless GS_MONGO_URL carries one.
     */
    GS_MONGO_USERNAME: z.string().min(1).default('gridstream'),
    GS_MONGO_PASSWORD: z.string().min(1).optional(),
    GS_MONGO_AUTH_SOURCE: z.string().min(1).default('admin'),
    /** The local stack's home: where deploy/local/stack.sh keeps the servers' secrets. */
    GS_HOME: z.string().min(1).default(DEFAULT_HOME),
    GS_API_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * A service's own port for /healthz, /readyz and /metrics (probes, Prometheus); unset for
     * none. `gridstream up` gives each service one from 9464 on (README, "Running one service").
     */
    GS_HEALTH_PORT: port.optional(),
    GS_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * The pid of the process that started this service and restarts it (`gridstream up` sets
     * it): a service whose supervisor is gone (killed with -9, so it could not stop its
     * children) stops itself instead of holding its ports and consuming on. Unset: none.
     */
    GS_SUPERVISOR_PID: z.coerce.number().int().positive().optional(),
    GS_API_PORT: z.coerce
      .number()
      .int()
      .min(0, '0 (any free port) to 65535')
      .max(65535)
      .default(8080),
    /** Requests one API key may make per minute; more are answered 429 (docs/api.md). */
    GS_API_RATE_LIMIT_PER_MINUTE: positiveInt.default(6_000),
    /**
     * Worker threads that parse, check and publish POST /v1/readings bodies, off the thread that
     * answers queries; 0 does it in that thread (docs/api.md).
     */
    GS_API_INGEST_WORKERS: z.coerce.number().int().min(0).max(16).default(1),
    /**
     * POST /v1/readings batches one API process holds at once (being read, parsed or published);
     * more are answered 503 OVERLOADED with retry-after before their body is read (docs/api.md).
     */
    GS_API_INGEST_MAX_IN_FLIGHT: positiveInt.max(10_000).default(64),
    /**
     * Devices whose newest reading each API process holds from the readings topic, so that a
     * device view shows a reading before the devices projection has written it; 0 turns it off
     * (docs/api.md). About 1 KiB a device.
     */
    GS_API_LATEST_READINGS_DEVICES: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
    GS_LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** Power is never integrated across a longer gap between two readings (docs/energy.md). */
    GS_ENERGY_MAX_GAP_MS: positiveInt.default(15 * 60_000),
    /** Readings each device's in-memory timeline keeps at most, and how far back before its newest. */
    GS_ENERGY_TIMELINE_READINGS: positiveInt.min(2).default(16),
    GS_ENERGY_TIMELINE_HORIZON_MS: positiveInt.default(6 * 3600_000),
    /** Device timelines kept in memory at most; the least recently used is reloaded from QuestDB. */
    GS_ENERGY_MAX_DEVICES: positiveInt.default(50_000),
    /** How stale the per-site energy view may get: the processor refreshes it at most this often. */
    GS_ENERGY_VIEW_REFRESH_MS: positiveInt.default(2_000),
    /** Energy processors one process runs, each in a worker thread of its own (one core each). */
    GS_ENERGY_WORKERS: positiveInt.max(64).default(1),
    /**
     * Bytes the energy processor fetches per partition at most: its batch size. A fetch, and every
     * batch decoded from it, stays in memory until the last of its batches is written: at full rate
     * two workers at 2 MiB peaked about 110 MiB lower than at 4, and ran 5-20 % slower in more,
     * smaller QuestDB commits (docs/benchmarks.md, "Memory at full rate, 2026-12-06"). A whole
     * fetch brings twice this at most.
     */
    GS_ENERGY_FETCH_BYTES: positiveInt.min(64 * 1024).default(4 * 1024 * 1024),
    /** A device without a reading for longer than this is offline (a reading is its heartbeat). */
    GS_DEVICE_OFFLINE_AFTER_MS: positiveInt.default(5 * 60_000),
    /** Bytes a projection fetches per partition at most: its batch size and memory bound. */
    GS_PROJECTION_FETCH_BYTES: positiveInt.min(1024).default(4 * 1024 * 1024),
    /**
     * The same for a rebuild. A rebuild writes each document once per checkpoint whatever the
     * batch size, so larger fetches bought nothing: 4 MiB rebuilt 1M events as fast as 32 MiB or
     * faster (the first batch comes sooner), in a quarter of the memory, and 1 MiB as fast as
     * 4 MiB with 200 MiB less at its peak (docs/benchmarks.md, "Memory of the rebuild").
     */
    GS_PROJECTION_REBUILD_FETCH_BYTES: positiveInt.min(1024).default(1024 * 1024),
    /**
     * A rebuild folds batches in memory and writes each changed document once per checkpoint,
     * then commits: this often (a rebuild killed midway resumes from its last checkpoint), and
     * whenever it holds more than GS_PROJECTION_REBUILD_MAX_DOCUMENTS documents.
     */
    GS_PROJECTION_REBUILD_CHECKPOINT_MS: positiveInt.default(30_000),
    GS_PROJECTION_REBUILD_MAX_DOCUMENTS: positiveInt.default(200_000),
    /**
     * A live projection that writes behind (the devices projection) writes its documents and
     * forgets the written ones whenever it holds more than this many: its memory bound. A device
     * document with a whole day's quarter hours is some 10-15 KB in memory, so 20,000 stay well
     * inside the service's 768 MiB.
     */
    GS_PROJECTION_LIVE_MAX_DOCUMENTS: positiveInt.default(20_000),
    /**
     * How long a live projection's documents may wait to be written when only events of its
     * lazy topics changed them (the devices projection: readings): a restart applies up to
     * this much of them again.
     */
    GS_PROJECTION_LAZY_WRITE_MS: positiveInt.default(10_000),
    /**
     * Worker threads a rebuild folds in, one part of the partitions each, for a projection whose
     * documents follow the keys (devices, alerts, commands); 0 for one per core, 1 for none.
     */
    GS_PROJECTION_REBUILD_WORKERS: z.coerce.number().int().min(0).max(64).default(0),
    /**
     * Events a rebuild applies a second at most, 0 for no limit. A rebuild at full speed takes a
     * core and much of Kafka's and MongoDB's time from the live services; an operator rebuilding
     * beside busy live traffic can hold it to a rate (as Elasticsearch's reindex does).
     */
    GS_PROJECTION_REBUILD_MAX_EVENTS_PER_SECOND: z.coerce.number().int().min(0).default(0),
    /** A dispatched command attempt not acknowledged within this is unanswered (docs/commands.md). */
    GS_COMMAND_ACK_TIMEOUT_MS: positiveInt.default(10_000),
    /** An acknowledged command that reports no result within this has timed out. */
    GS_COMMAND_RESULT_TIMEOUT_MS: positiveInt.default(60_000),
    /** Dispatches of one command at most (the first and its retries). */
    GS_COMMAND_MAX_ATTEMPTS: positiveInt.max(100).default(3),
    /** Wait before the first retry; it doubles with each further retry, up to the maximum. */
    GS_COMMAND_RETRY_BACKOFF_MS: positiveInt.default(2_000),
    GS_COMMAND_RETRY_MAX_BACKOFF_MS: positiveInt.default(60_000),
    /** A command's expiry when the request names none, and the furthest one it may name. */
    GS_COMMAND_DEFAULT_TTL_MS: positiveInt.default(5 * 60_000),
    GS_COMMAND_MAX_TTL_MS: positiveInt.default(24 * 3600_000),
    /** How often the command processor looks for timers that are due. */
    GS_COMMAND_TIMER_INTERVAL_MS: positiveInt.default(500),
    /**
     * Unfinished commands one device may have at most; the processor rejects a request beyond
     * it (`queue-full`), so a flood of commands to an offline device stays bounded.
     */
    GS_COMMAND_MAX_PENDING_PER_DEVICE: positiveInt.max(10_000).default(100),
    /**
     * Plausibility of event times (docs/events.md): no event before this instant, and none more
     * than GS_EVENT_MAX_AHEAD_MS ahead of the clock that received it (the API's, or the broker's
     * append time for a record sent straight to Kafka). Others are refused (400) or dead-lettered.
     */
    GS_EVENT_EARLIEST_TIME: z.iso
      .datetime({ offset: true })
      .default('2000-01-01T00:00:00Z')
      .transform((time) => Date.parse(time)),
    GS_EVENT_MAX_AHEAD_MS: positiveInt.max(7 * 24 * 3600_000).default(5 * 60_000),
    /**
     * Times a consumer hands one message to its handler when it fails with an error that is
     * neither an outage nor known bad data (a bug, an unforeseen refusal): after that many tries
     * the message goes to the DLQ and its partition moves on (docs/events.md).
     */
    GS_CONSUMER_MAX_ATTEMPTS: positiveInt.max(1000).default(5),
    /**
     * How long one batch may take before its consumer is taken for hung and its process ends, to
     * be started again by its supervisor (the Java client's max.poll.interval.ms; docs/events.md).
     */
    GS_CONSUMER_MAX_BATCH_MS: positiveInt
      .min(10_000)
      .max(7 * 86_400_000)
      .default(5 * 60_000),
    /**
     * How long a consumer may hand no batch over while partitions it holds have messages
     * waiting before it is taken for stuck: it is replaced by a new one, and its process ends if
     * that happens again soon after (docs/events.md, "A member that hands nothing over").
     */
    GS_CONSUMER_MAX_IDLE_MS: positiveInt
      .min(5_000)
      .max(7 * 86_400_000)
      .default(60_000),
    /**
     * How long a consumer group waits for a member that stopped heartbeating (killed, frozen)
     * before its partitions go to the others, and before a rebalance stops waiting for it. Each
     * member heartbeats every 3 s on a timer of its own, during batches too (docs/events.md).
     * Kafka's brokers accept 6 s to 30 min by default.
     */
    GS_CONSUMER_SESSION_TIMEOUT_MS: positiveInt.min(6_000).max(1_800_000).default(10_000),
    /** How long each topic and table keeps what (retention.ts, docs/data-lifecycle.md). */
    ...RETENTION_SETTINGS,
  });
}

export type Config = z.infer<ReturnType<typeof settings>> & z.infer<typeof StackPorts>;

/** The bounds on event times, in the shape the event catalogue's checks take (TimePlausibility). */
export function eventTimeBounds(config: Config) {
  return { earliestMs: config.GS_EVENT_EARLIEST_TIME, maxAheadMs: config.GS_EVENT_MAX_AHEAD_MS };
}

/** What every consumer loop takes from the settings (runEventConsumer's options). */
export function consumerSettings(config: Config) {
  return {
    timeBounds: eventTimeBounds(config),
    maxAttempts: config.GS_CONSUMER_MAX_ATTEMPTS,
    maxBatchMs: config.GS_CONSUMER_MAX_BATCH_MS,
    maxIdleMs: config.GS_CONSUMER_MAX_IDLE_MS,
    sessionTimeoutMs: config.GS_CONSUMER_SESSION_TIMEOUT_MS,
  };
}

/** QuestDB's PG-wire connection, in the shape createQuestDbReader takes. */
export function questDbConnection(config: Config) {
  return {
    host: config.GS_QDB_PG_HOST,
    port: config.GS_QDB_PG_PORT,
    user: config.GS_QDB_PG_USER,
    password: config.GS_QDB_PG_PASSWORD ?? 'quest',
  };
}

/** QuestDB's HTTP endpoint (ILP over HTTP, REST) and its basic auth, as createIlpSender takes it. */
export function questDbHttp(config: Config) {
  return {
    url: config.GS_QDB_HTTP_URL,
    ...(config.GS_QDB_HTTP_PASSWORD === undefined
      ? {}
      : { user: config.GS_QDB_HTTP_USER, password: config.GS_QDB_HTTP_PASSWORD }),
  };
}

/**
 * A secret of the local stack (deploy/local/stack.sh writes GS_HOME/data/secrets/<name>.secret
 * on its first start), or undefined where there is none: elsewhere passwords come from the
 * environment (Compose's .env, a Kubernetes Secret).
 */
function localSecret(home: string, name: string): string | undefined {
  try {
    return readFileSync(join(home, 'data/secrets', `${name}.secret`), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Passwords not in the environment are the local stack's, where it has them. */
function withLocalSecrets(config: Config): Config {
  const home = config.GS_HOME;
  return {
    ...config,
    GS_KAFKA_SASL_PASSWORD: config.GS_KAFKA_SASL_PASSWORD ?? localSecret(home, 'kafka'),
    GS_QDB_HTTP_PASSWORD: config.GS_QDB_HTTP_PASSWORD ?? localSecret(home, 'questdb'),
    GS_QDB_PG_PASSWORD: config.GS_QDB_PG_PASSWORD ?? localSecret(home, 'questdb'),
    GS_MONGO_PASSWORD: config.GS_MONGO_PASSWORD ?? localSecret(home, 'mongo'),
  };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function problemLines(
  issues: readonly z.core.$ZodIssue[],
  env: Record<string, string | undefined>,
): string[] {
  const byVariable = new Map<string, string>();
  for (const issue of issues) {
    const variable = String(issue.path[0] ?? '(environment)');
    if (byVariable.has(variable)) continue; // one line per variable, however many elements failed
    const given = env[variable];
    byVariable.set(
      variable,
      `${variable}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`,
    );
  }
  return [...byVariable.values()];
}

/** Parses the environment; throws a ConfigError with one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set": `GS_API_PORT=` must not become port 0.
  const given = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const ports = StackPorts.safeParse(given);
  if (!ports.success) throw new ConfigError(problemLines(ports.error.issues, given));
  const rest = settings(ports.data).safeParse(given);
  if (!rest.success) throw new ConfigError(problemLines(rest.error.issues, given));
  const together = retentionProblems(rest.data);
  if (together.length > 0) throw new ConfigError(together);
  return withLocalSecrets({ ...ports.data, ...rest.data });
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
