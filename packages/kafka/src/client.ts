import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry } from 'kafkajs';

/** kafkajs's admin client, for packages that take one without depending on kafkajs. */
export type { Admin as KafkaAdmin } from 'kafkajs';

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

/** One structured line on stderr, the shape every line of this package's logging has. */
export function logLine(
  severity: 'error' | 'warn',
  component: string,
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  process.stderr.write(`${JSON.stringify({ severity, component, msg, ...fields })}\n`);
}

/** kafkajs logs through us at warn and above; its info chatter (joins, commits) stays quiet. */
function logCreator() {
  return ({ namespace, level, log }: LogEntry) => {
    logLine(
      level === logLevel.ERROR ? 'error' : 'warn',
      `kafkajs.${namespace}`,
      log.message,
      context(log),
    );
  };
}

/** The fields worth a log line; kafkajs also attaches whole error objects and stacks. */
function context(log: LogEntry['log']): Record<string, unknown> {
  const { topic, partition, offset, groupId, error, retryCount } = log as Record<string, unknown>;
  return {
    topic,
    partition,
    offset,
    groupId,
    retryCount,
    error: typeof error === 'string' ? error : (error as Error | undefined)?.message,
  };
}

export function createKafka(settings: KafkaSettings): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: logLevel.WARN,
    logCreator,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}
