import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { createKafka, kafkaSettings, createTopicsIfMissing, topicNames } from '@gridstream/kafka';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const topics = topicNames(config.GS_TOPIC_PREFIX);
const headers: Record<string, string> = {};
const stopAfterAll = teardown(config);
let api: RunningApi;

/** The value of one sample of the Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  const kafka = createKafka(kafkaSettings(config, 'e2e-metrics'));
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  api = await startApi(config, { listen: false });
  headers.authorization = await bearer(api, 'acme');
  stopAfterAll(() => api.close());
  // the live feed sees what is published from now on (it times each event's delivery)
  await api.live.ready();

  // given three readings ingested and one batch refused
  const time = '2026-11-24T10:00:00Z';
  const accepted = await api.app.inject({
    method: 'POST',
    url: '/v1/readings',
    headers,
    payload: { readings: ['a', 'b', 'c'].map((d) => ({ deviceId: `plug-${d}`, time, powerW: 5 })) },
  });
  expect(accepted.statusCode).toBe(202);
  const refused = await api.app.inject({
    method: 'POST',
    url: '/v1/readings',
    headers,
    payload: { readings: [{ deviceId: 'plug-a', time, powerW: 'lots' }] },
  });
  expect(refused.statusCode).toBe(400);

  // and a consumer group of the deployment that committed nothing past the start, and two
  // dead letters
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({
      groupId: `${config.GS_TOPIC_PREFIX}processor.test`,
      topic: topics.readings,
      partitions: Array.from({ length: config.GS_TOPIC_PARTITIONS }, (_, partition) => ({
        partition,
        offset: '0',
      })),
    });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: topics.dlq, messages: [{ value: 'x' }, { value: 'y' }] });
  await producer.disconnect();
});

describe('GET /metrics', () => {
  it('counts requests and ingest, and shows every consumer group lag and the DLQ', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    // then the ingest counts the readings Kafka acknowledged, not the refused one
    expect(sample(text, 'gridstream_ingested_readings_total')).toBe(3);
    // and requests are counted by route pattern and status
    const posts = 'gridstream_http_requests_total{method="POST",route="/v1/readings"';
    expect(sample(text, `${posts},status_code="202"}`)).toBe(1);
    expect(sample(text, `${posts},status_code="400"}`)).toBe(1);
    // and the group's lag is the three readings it has not committed
    const group = `${config.GS_TOPIC_PREFIX}processor.test`;
    expect(
      sample(text, `gridstream_consumer_lag_messages{group="${group}",topic="${topics.readings}"}`),
    ).toBe(3);
    // and the DLQ holds the two dead letters
    expect(sample(text, 'gridstream_dlq_messages')).toBe(2);
    // and the process's own metrics are there
    expect(text).toMatch(/^gridstream_api_process_resident_memory_bytes \d+/m);
  });

  it('times how long each reading took from its own time to reach the API through Kafka', async () => {
    // given the three readings, stamped 2026-11-24T10:00:00Z, read by the API's live feed
    const delivered = await eventually('the live feed read the readings', async () => {
      const text = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
      const count = sample(text, 'gridstream_event_delivery_seconds_count{kind="reading"}');
      return count !== undefined && count >= 3 ? text : undefined;
    });
    // then each is counted once, with its age: hours, so none falls in the first bucket
    const ageSeconds = (Date.now() - Date.parse('2026-11-24T10:00:00Z')) / 1000;
    expect(sample(delivered, 'gridstream_event_delivery_seconds_count{kind="reading"}')).toBe(3);
    expect(
      sample(delivered, 'gridstream_event_delivery_seconds_bucket{le="0.01",kind="reading"}'),
    ).toBe(0);
    expect(
      sample(delivered, 'gridstream_event_delivery_seconds_sum{kind="reading"}'),
    ).toBeGreaterThanOrEqual(3 * (ageSeconds - 60));
  });
});
