import { describe, it } from 'vitest';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import type { LiveProjection } from '@gridstream/projection';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { expectDocumentsFolded } from './folded-documents.fixture.ts';
import { startDevicesProjection } from './run.ts';

// Small fetches make many small batches, so instances overlap on the same devices often.
const config = isolatedConfig({ GS_PROJECTION_FETCH_BYTES: '4096' });
const stopAfterAll = teardown(config);
const tenant = 'acme';

/** Wave w of 24 devices' history: a registration first, then readings and updates interleaved. */
function wave(w: number): GridstreamEvent[] {
  const out: GridstreamEvent[] = [];
  for (let d = 0; d < 24; d++) {
    const deviceId = `dev-${d}`;
    const base = { source: 'test', subject: deviceId, tenant };
    const id = () =>
      `01930000-0000-7000-8${w}02-${String(d * 1000 + out.length).padStart(12, '0')}`;
    if (w === 0)
      out.push({
        ...base,
        id: id(),
        time: '2026-11-24T00:00:00Z',
        type: EventType.deviceRegistered,
        data: {
          deviceId,
          siteId: `site-${d % 3}`,
          kind: 'meter',
          role: 'grid',
          name: deviceId,
          timeZone: 'UTC',
        },
      });
    for (let i = 0; i < 40; i++) {
      out.push({
        ...base,
        id: id(),
        time: new Date(Date.UTC(2026, 10, 24, 1 + w, i, d % 60)).toISOString(),
        type: EventType.readingReported,
        data: { deviceId, powerW: w * 1000 + i, importWh: w * 100 + i, quality: 'good' },
      });
      // registry changes among the readings: both topics address the same documents at once
      if (i % 4 === 0)
        out.push({
          ...base,
          id: id(),
          time: new Date(Date.UTC(2026, 10, 24, 1 + w, i, 30)).toISOString(),
          type: EventType.deviceUpdated,
          data: { deviceId, name: `dev-${d}-${w}-${i}`, ratedPowerW: 1000 + w * 100 + i },
        });
    }
  }
  return out;
}

describe('the devices projection as several live instances on the real Kafka and FerretDB', () => {
  it('folds every event once while instances join and leave under load', async () => {
    // given two live instances of the projection in one consumer group
    const kafka = createKafka(kafkaSettings(config, 'test-scale-out'));
    const topics = topicNames(config.GS_TOPIC_PREFIX);
    await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
    const publisher = await createEventPublisher(kafka, topics);
    stopAfterAll(() => publisher.disconnect());
    const start = async () => {
      const live = await startDevicesProjection(config, { lagLogIntervalMs: 0 });
      stopAfterAll(() => live.stop());
      return live;
    };
    const first = await start();
    const second = await start();
    const history = [wave(0), wave(1), wave(2)];
    // when the history comes in three waves: a third instance joins during the first, the
    // first instance leaves during the second
    await publisher.publish(history[0] ?? []);
    const third = await start();
    await publisher.publish(history[1] ?? []);
    await first.stop();
    await publisher.publish(history[2] ?? []);
    const caughtUp = (live: LiveProjection) =>
      eventually(
        'caught up',
        async () => ((await live.lag()) === 0 ? true : undefined),
        90_000,
        250,
      );
    await caughtUp(second);
    await caughtUp(third);
    // then every document is the fold of its device's events, each applied once, in order
    await expectDocumentsFolded(config, history.flat());
  }, 150_000);
});
