import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { createEventPublisher, createKafka, kafkaSettings, topicNames } from '@gridstream/kafka';
import { energyProcessorGroupId, startEnergyProcessor } from '@gridstream/processor-energy';
import { startDevicesProjection } from '@gridstream/projection-devices';
import { startTracing } from '@gridstream/telemetry';
import type { Tracing } from '@gridstream/telemetry';
import { bearer, eventually, isolatedConfig, registration } from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';
import { startOtlpReceiver } from '../../../test/otlp-receiver.ts';
import type { ReceivedSpan } from '../../../test/otlp-receiver.ts';

const config = isolatedConfig();
const tenant = 'acme';
const deviceId = 'meter-traced-1';
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let tracing: Tracing;
let api: RunningApi;
const stopAfterAll = teardown(config);

// The SDK is global to the process: started before the services, as runService starts it.
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
  tracing = await startTracing('gridstream-e2e');
  const [processor, projection] = await Promise.all([
    startEnergyProcessor(config),
    startDevicesProjection(config),
  ]);
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  stopAfterAll(() => processor.stop());
  stopAfterAll(() => projection.stop());
});

afterAll(async () => {
  await tracing.shutdown();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  await receiver.close();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('tracing one reading from the API to QuestDB and MongoDB', () => {
  it('gives its ingest, process and write spans the request traceparent’s trace', async () => {
    // given a registered meter (published untraced) and a caller's sampled trace context
    const publisher = await createEventPublisher(
      createKafka(kafkaSettings(config, 'e2e-tracing-registry')),
      topicNames(config.GS_TOPIC_PREFIX),
    );
    stopAfterAll(() => publisher.disconnect());
    await publisher.publish([registration(tenant, { deviceId, siteId: 'site-traced' })]);
    const traceId = hex(16);
    const callerSpanId = hex(8);

    // when one reading is posted with it
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers: {
        authorization: await bearer(api, tenant),
        traceparent: `00-${traceId}-${callerSpanId}-01`,
        tracestate: 'vendor=gridstream-e2e',
      },
      payload: {
        readings: [{ deviceId, time: '2026-11-20T10:00:00Z', powerW: 250, importWh: 1000 }],
      },
    });
    expect(posted.statusCode).toBe(202);

    // then the API's ingest span is the caller's span's child
    const ofTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    const named = (
      name: string,
      kind: number,
      where: (span: ReceivedSpan) => boolean = () => true,
    ) =>
      eventually(`a ${name} span of the trace`, async () =>
        ofTrace().find((span) => span.name === name && span.kind === kind && where(span)),
      );
    const ingest = await named('POST /v1/readings', SERVER);
    expect(ingest.parentSpanId).toBe(callerSpanId);
    expect(ingest.attributes['http.response.status_code']).toBe(202);

    // and the published record carries it in the CloudEvents distributed-tracing extension
    const [record] = await readTopic(config, 'readings');
    expect(record?.headers.ce_traceparent).toBe(`00-${traceId}-${ingest.spanId}-01`);
    expect(record?.headers.ce_tracestate).toBe('vendor=gridstream-e2e');

    // and the energy processor's process span is the ingest span's child
    const readingsTopic = topicNames(config.GS_TOPIC_PREFIX).readings;
    const energyProcess = await named(
      `process ${readingsTopic}`,
      CONSUMER,
      (span) => span.attributes['messaging.consumer.group.name'] === energyProcessorGroupId(config),
    );
    expect(energyProcess.parentSpanId).toBe(ingest.spanId);
    expect(energyProcess.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': readingsTopic,
      'messaging.kafka.offset': expect.any(Number) as number,
      'cloudevents.event_type': 'gridstream.reading.reported.v1',
    });

    // and the QuestDB write under it succeeded
    const questDbWrite = await named(
      'ILP flush',
      CLIENT,
      (span) => span.parentSpanId === energyProcess.spanId,
    );
    expect(questDbWrite.attributes['db.system.name']).toBe('questdb');
    expect(questDbWrite.statusCode).not.toBe(2);

    // and the devices projection processed the same record, its MongoDB write under it
    const devicesProcess = await named(`process ${readingsTopic}`, CONSUMER, (span) =>
      String(span.attributes['messaging.consumer.group.name']).startsWith(
        `${config.GS_TOPIC_PREFIX}projection.devices.`,
      ),
    );
    expect(devicesProcess.parentSpanId).toBe(ingest.spanId);
    const mongoWrite = await eventually('the devices projection’s MongoDB write span', async () =>
      ofTrace().find(
        (span) =>
          span.name.startsWith('bulkWrite devices') &&
          span.kind === CLIENT &&
          span.parentSpanId === devicesProcess.spanId,
      ),
    );
    expect(mongoWrite.attributes['db.system.name']).toBe('mongodb');
    expect(mongoWrite.statusCode).not.toBe(2);

    // and the untraced registration made no span: only what the reading caused is in a trace
    expect(
      receiver.spans.filter(
        (span) => span.attributes['cloudevents.event_type'] === 'gridstream.device.registered.v2',
      ),
    ).toEqual([]);
  });
});
