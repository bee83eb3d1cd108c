import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import {
  committedMessages,
  createEventPublisher,
  createKafka,
  kafkaSettings,
  topicNames,
} from '@gridstream/kafka';
import { archiveGroupId } from '@gridstream/processor-archive';
import { eventually, isolatedConfig, registration } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { startOtlpReceiver } from '../../../test/otlp-receiver.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const GRIDSTREAM = fileURLToPath(new URL('../../../gridstream', import.meta.url));

describe('./gridstream run <service> with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('traces the records it handles under their traceparent and flushes the spans when stopped', async () => {
    // given an OTLP receiver and the archive run with its endpoint
    const receiver = await startOtlpReceiver();
    stopAfterAll(() => receiver.close());
    const child = spawn(GRIDSTREAM, ['run', 'archive'], {
      env: {
        ...process.env,
        ...inject('stack').loginEnv,
        GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
        GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
        GS_TOPIC_PARTITIONS: String(config.GS_TOPIC_PARTITIONS),
        GS_QDB_HTTP_URL: config.GS_QDB_HTTP_URL,
        GS_QDB_PG_HOST: config.GS_QDB_PG_HOST,
        GS_QDB_PG_PORT: String(config.GS_QDB_PG_PORT),
        GS_QDB_TABLE_PREFIX: config.GS_QDB_TABLE_PREFIX,
        GS_MONGO_URL: config.GS_MONGO_URL,
        GS_MONGO_DB: config.GS_MONGO_DB,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    const exited = once(child, 'exit');
    stopAfterAll(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await eventually(
      'the archive running',
      async () => log.includes('running') || undefined,
      60_000,
    );

    // when a registration is published with a sampled trace context, and the archive has it
    const kafka = createKafka(kafkaSettings(config, 'test-run-tracing'));
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    await publisher.publish([registration('acme', { deviceId: 'meter-run-traced', siteId: 's' })], {
      traceparent: `00-${traceId}-${parentSpanId}-01`,
    });
    await eventually(
      'the archive to commit the registration',
      async () =>
        (await committedMessages(kafka, archiveGroupId(config), topics.devices)) >= 1 || undefined,
      60_000,
    );
    // and it is stopped at once (its spans would otherwise leave within 5 s)
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);

    // then the receiver has the archive's process span under the publisher's, and its flush
    const ofTrace = receiver.spans.filter((span) => span.traceId === traceId);
    const process_ = ofTrace.find((span) => span.name === `process ${topics.devices}`);
    expect(process_?.parentSpanId).toBe(parentSpanId);
    expect(process_?.serviceName).toBe('gridstream-event-archive');
    expect(process_?.attributes['messaging.consumer.group.name']).toBe(archiveGroupId(config));
    const flush = ofTrace.find((span) => span.name === 'ILP flush');
    expect(flush?.parentSpanId).toBe(process_?.spanId);
  });
});
