import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry } from 'kafkajs';

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

/** kafkajs logs through us at warn and above; its info chatter (joins, commits) stays quiet. */
function logCreator() {
  return ({ namespace, level, log }: LogEntry) => {
    const severity = level === logLevel.ERROR ? 'error' : 'warn';
    process.stderr.write(
      `${JSON.stringify({ severity, component: `kafkajs.${namespace}`, msg: log.message, ...context(log) })}\n`,
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
