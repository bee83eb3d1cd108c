import { afterAll, describe, expect, it } from 'vitest';
import { decodeEvent } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { createEventPublisher, kafkaSettings } from '@gridstream/kafka';
import { consumeFromStart, isolatedConfig, testTopics } from '../../../../test/support.ts';
import { inlineIngest, startIngestWorkers } from './ingest.ts';
import type { IngestOutcome } from './ingest.ts';

const { kafka, topics, remove } = await testTopics('api-ingest', 2);
const topicPrefix = topics.readings.slice(0, -'readings'.length);
const workerData = { kafka: kafkaSettings(isolatedConfig(), 'test-ingest'), topicPrefix };
const logged: string[] = [];
const log = (line: string) => logged.push(line);

afterAll(async () => {
  await remove();
});

const body = (deviceId: string, readings: number) =>
  new TextEncoder().encode(
    JSON.stringify({
      readings: Array.from({ length: readings }, (_, i) => ({
        deviceId,
        time: new Date(Date.UTC(2026, 10, 20, 10, i)).toISOString(),
        importWh: 1000 + i,
      })),
    }),
  );

async function consumeReadings(count: number): Promise<GridstreamEvent[]> {
  const messages = await consumeFromStart(kafka, topics.readings, count);
  return messages.map((message) => {
    const decoded = decodeEvent({
      key: message.key?.toString(),
      value: message.value,
      headers: Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
      ),
    });
    if (!decoded.ok) throw new Error(`undecodable record: ${decoded.reason}`);
    return decoded.event;
  });
}

describe('reading ingest, in a worker thread and in the calling thread', () => {
  it('publishes the same events either way, and refuses the same invalid body alike', async () => {
    // given the worker pool and the in-thread ingest, on the same topics
    const workers = await startIngestWorkers(2, workerData, log);
    const publisher = await createEventPublisher(kafka, topics);
    let n = 0;
    const inline = inlineIngest({
      publisher,
      newEventId: () => `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
    });
    try {
      // when each takes a valid body of 40 readings and the same invalid body
      const [viaWorker, viaInline] = await Promise.all([
        workers.submit('acme', body('meter-w', 40)),
        inline.submit('acme', body('meter-i', 40)),
      ]);
      const invalid = new TextEncoder().encode(
        JSON.stringify({ readings: [{ deviceId: 'meter-x', time: 'noon', powerW: 1 }] }),
      );
      const refusals = await Promise.all([
        workers.submit('acme', invalid),
        inline.submit('acme', invalid),
      ]);

      // then both answer with 40 ids, and Kafka has the 80 readings of the tenant, as posted
      const ids = (outcome: IngestOutcome) => (outcome.ok ? outcome.ids : []);
      expect(ids(viaWorker)).toHaveLength(40);
      expect(ids(viaInline)).toHaveLength(40);
      const events = await consumeReadings(80);
      expect(new Set(events.map((e) => e.id))).toEqual(
        new Set([...ids(viaWorker), ...ids(viaInline)]),
      );
      expect(events.every((e) => e.tenant === 'acme' && e.source === '/v1/readings')).toBe(true);
      const ofWorker = events.filter((e) => e.subject === 'meter-w');
      expect(ofWorker.map((e) => (e.data as { importWh: number }).importWh).sort()).toEqual(
        Array.from({ length: 40 }, (_, i) => 1000 + i),
      );
      // and the invalid body is refused by both with the same field
      expect(refusals[0]).toEqual(refusals[1]);
      expect(refusals[0]).toMatchObject({ ok: false, issues: [{ path: 'readings.0.time' }] });
    } finally {
      await workers.close();
      await publisher.disconnect();
    }
  });

  it('fails the bodies of a worker that dies with a retriable error, and starts another', async () => {
    // given a pool whose worker dies on the first body it gets
    const entry = new URL('./dying-worker.fixture.ts', import.meta.url);
    const workers = await startIngestWorkers(1, workerData, log, entry);
    try {
      // when a body is submitted
      const outcome = workers.submit('acme', body('meter-d', 1));

      // then it is refused as a dependency that was unavailable (503: send it again)
      await expect(outcome).rejects.toMatchObject({
        code: 'DEPENDENCY_UNAVAILABLE',
        retriable: true,
      });
      // and until another worker has started, a body is refused at once, not left waiting
      await expect(workers.submit('acme', body('meter-d', 1))).rejects.toMatchObject({
        code: 'DEPENDENCY_UNAVAILABLE',
        message: 'no ingest worker is running; send the batch again',
      });
      // and another worker takes the first one's place
      await expect.poll(() => logged.some((l) => l.includes('starting another'))).toBe(true);
      await expect
        .poll(
          async () => {
            const refusal = await workers
              .submit('acme', body('meter-d', 1))
              .catch((e: unknown) => e);
            return (refusal as Error).message;
          },
          { timeout: 10_000 },
        )
        .toBe('the ingest worker stopped before Kafka confirmed the batch; send it again');
    } finally {
      await workers.close();
    }
  });

  it('refuses to start, as retriable, when its workers cannot start', async () => {
    const entry = new URL('./dying-worker.fixture.ts', import.meta.url);
    await expect(
      startIngestWorkers(
        2,
        { ...workerData, kafka: { ...workerData.kafka, clientId: 'cannot-start' } },
        log,
        entry,
      ),
    ).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: 'Kafka is not answering' });
  });
});
