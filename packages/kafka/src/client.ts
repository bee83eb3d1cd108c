import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry, SASLOptions } from 'kafkajs';

/** kafkajs's admin client, for packages that take one without depending on kafkajs. */
export type { Admin as KafkaAdmin } from 'kafkajs';

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** The SASL login; none connects anonymously, which a secured cluster refuses. */
  readonly sasl?: KafkaLogin | undefined;
  /** TLS to the brokers; a CA (PEM) to check them against, else the system's. */
  readonly tls?: { readonly ca?: string | undefined } | undefined;
  /** What of kafkajs's logging is written (GS_KAFKA_LOG_LEVEL); warnings and errors by default. */
  readonly logLevel?: KafkaLogLevel | undefined;
}

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogin {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

/** What kafkaSettings reads of the configuration (@gridstream/config's Config has it all). */
export interface KafkaConfig {
  readonly GS_KAFKA_BROKERS: readonly string[];
  readonly GS_KAFKA_SASL_MECHANISM?: KafkaLogin['mechanism'] | undefined;
  readonly GS_KAFKA_SASL_USERNAME: string;
  readonly GS_KAFKA_SASL_PASSWORD?: string | undefined;
  readonly GS_KAFKA_TLS: boolean;
  readonly GS_KAFKA_TLS_CA_FILE?: string | undefined;
  readonly GS_KAFKA_LOG_LEVEL?: KafkaLogLevel | undefined;
}

/**
 * The connection settings of one client: the brokers, and the login and TLS the configuration
 * asks for (docs/security.md). A mechanism without a password is a mistake, not an anonymous
 * connection.
 */
export function kafkaSettings(config: KafkaConfig, clientId: string): KafkaSettings {
  const password = config.GS_KAFKA_SASL_PASSWORD;
  if (password === undefined && config.GS_KAFKA_SASL_MECHANISM !== undefined)
    throw new RangeError(
      `GS_KAFKA_SASL_MECHANISM is ${config.GS_KAFKA_SASL_MECHANISM} but no password: set GS_KAFKA_SASL_PASSWORD`,
    );
  return {
    brokers: config.GS_KAFKA_BROKERS,
    clientId,
    logLevel: config.GS_KAFKA_LOG_LEVEL,
    sasl:
      password === undefined
        ? undefined
        : {
            mechanism: config.GS_KAFKA_SASL_MECHANISM ?? 'scram-sha-512',
            username: config.GS_KAFKA_SASL_USERNAME,
            password,
          },
    tls: config.GS_KAFKA_TLS
      ? {
          ca:
            config.GS_KAFKA_TLS_CA_FILE === undefined
              ? undefined
              : readFileSync(config.GS_KAFKA_TLS_CA_FILE, 'utf8'),
        }
      : undefined,
  };
}

/**
 * One structured line on stderr, the shape every line of this package's logging has. `time`
 * (ISO 8601, UTC) orders a fault's lines across services: a broker outage's story is in when.
 */
export function logLine(
  severity: 'error' | 'warn' | 'info' | 'debug',
  component: string,
  msg: string,
  fields: Record<string, unknown> = {},
  time: Date = new Date(),
): void {
  process.stderr.write(
    `${JSON.stringify({ time: time.toISOString(), severity, component, msg, ...fields })}\n`,
  );
}

/** kafkajs's levels by name (GS_KAFKA_LOG_LEVEL). */
const KAFKAJS_LEVELS: Record<KafkaLogLevel, logLevel> = {
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/** Our severity of a kafkajs level. */
function severityOf(level: logLevel): 'error' | 'warn' | 'info' | 'debug' {
  if (level === logLevel.ERROR || level === logLevel.NOTHING) return 'error';
  if (level === logLevel.WARN) return 'warn';
  return level === logLevel.INFO ? 'info' : 'debug';
}

/**
 * kafkajs logs through us, at warn and above unless GS_KAFKA_LOG_LEVEL says otherwise: its info
 * chatter (joins, commits) stays quiet by default.
 */
function logCreator() {
  return ({ namespace, level, log }: LogEntry) => {
    logLine(
      severityOf(level),
      `kafkajs.${namespace}`,
      log.message,
      context(log),
      timeOf(log.timestamp),
    );
  };
}

/** When kafkajs logged the entry (its ISO timestamp), else now. */
function timeOf(timestamp: string): Date {
  const time = new Date(timestamp);
  return Number.isNaN(time.getTime()) ? new Date() : time;
}

/** The fields worth a log line; kafkajs also attaches whole error objects and stacks. */
function context(log: LogEntry['log']): Record<string, unknown> {
  const { topic, partition, offset, groupId, memberId, generationId, nodeId, error, retryCount } =
    log as Record<string, unknown>;
  return {
    topic,
    partition,
    offset,
    groupId,
    memberId,
    generationId,
    nodeId,
    retryCount,
    error: typeof error === 'string' ? error : (error as Error | undefined)?.message,
  };
}

/** The login as kafkajs takes it (it types each mechanism apart). */
export function saslOptions(login: KafkaLogin): SASLOptions {
  const { username, password } = login;
  switch (login.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

export function createKafka(settings: KafkaSettings): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    ...(settings.sasl === undefined ? {} : { sasl: saslOptions(settings.sasl) }),
    ...(settings.tls === undefined
      ? {}
      : { ssl: settings.tls.ca === undefined ? true : { ca: [settings.tls.ca] } }),
    logLevel: KAFKAJS_LEVELS[settings.logLevel ?? 'warn'],
    logCreator,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}
