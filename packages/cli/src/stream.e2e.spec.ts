import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { startAlertsProcessor } from '@gridstream/processor-alerts';
import { bearer, eventually, isolatedConfig, registration } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
let api: RunningApi;
let base = '';
let acme = '';
let other = '';

interface Frame {
  readonly id?: string;
  readonly event?: string;
  readonly data: string;
}

/** A server-sent event stream read with fetch: the frames so far, and how to hang up. */
function openStream(path: string, headers: Record<string, string>) {
  const frames: Frame[] = [];
  const controller = new AbortController();
  let markOpen: () => void = () => undefined;
  const open = new Promise<void>((resolve) => {
    markOpen = resolve;
  });
  const opened = fetch(`${base}${path}`, { headers, signal: controller.signal }).then(
    async (response) => {
      if (response.body === null) throw new Error('no body');
      const decoder = new TextDecoder();
      let pending = '';
      try {
        for await (const chunk of response.body) {
          markOpen();
          pending += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            const block = pending.slice(0, end);
            pending = pending.slice(end + 2);
            const fields = new Map<string, string>();
            for (const line of block.split('\n')) {
              const colon = line.indexOf(':');
              if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
            }
            const data = fields.get('data');
            if (data === undefined) continue;
            const id = fields.get('id');
            const event = fields.get('event');
            frames.push({
              data,
              ...(id === undefined ? {} : { id }),
              ...(event === undefined ? {} : { event }),
            });
          }
        }
      } catch (error) {
        if (!controller.signal.aborted) throw error;
      }
      return response;
    },
  );
  return {
    frames,
    /** Resolves once the server has started the stream (its first bytes arrived). */
    open,
    readings: () =>
      frames
        .filter((f) => f.event === 'reading')
        .map((f) => JSON.parse(f.data) as { subject: string; data: { powerW?: number } }),
    close: async () => {
      controller.abort();
      await opened.catch(() => undefined);
    },
  };
}

const registered = (tenant: string, deviceId: string, siteId: string): GridstreamEvent =>
  registration(tenant, { deviceId, siteId }, `reg-${tenant}-${deviceId}`);

async function post(authorization: string, readings: { deviceId: string; powerW: number }[]) {
  const response = await api.app.inject({
    method: 'POST',
    url: '/v1/readings',
    headers: { authorization },
    payload: {
      readings: readings.map((r, i) => ({ ...r, time: new Date(Date.now() + i).toISOString() })),
    },
  });
  expect(response.statusCode).toBe(202);
}

beforeAll(async () => {
  const kafka = createKafka(kafkaSettings(config, 'e2e-stream'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  stopAfterAll(() => publisher.disconnect());
  await publisher.publish([
    registered('acme', 'meter-1', 'site-1'),
    registered('acme', 'meter-2', 'site-2'),
    registered('other', 'meter-1', 'site-1'),
  ]);
  const alerts = await startAlertsProcessor(config);
  stopAfterAll(() => alerts.stop());
  api = await startApi(config);
  stopAfterAll(() => api.close());
  base = api.url ?? '';
  acme = await bearer(api, 'acme', ['read', 'ingest']);
  other = await bearer(api, 'other', ['read', 'ingest']);
  await api.live.ready();
});

describe('GET /v1/stream (server-sent events from Kafka)', () => {
  it("sends the key tenant's readings of the site asked for, and resumes from Last-Event-ID", async () => {
    // given a client of tenant acme following site-1
    const first = openStream('/v1/stream?siteId=site-1&kinds=reading', { authorization: acme });
    await first.open;
    // when acme's two sites and another tenant's device of the same id report
    await post(acme, [
      { deviceId: 'meter-1', powerW: 1 },
      { deviceId: 'meter-2', powerW: 2 },
    ]);
    await post(other, [{ deviceId: 'meter-1', powerW: 99 }]);
    await post(acme, [{ deviceId: 'meter-1', powerW: 3 }]);
    // then it gets acme's readings of site-1 only, in order
    await eventually('two readings of site-1', async () =>
      first.readings().length >= 2 ? true : undefined,
    );
    expect(first.readings().map((r) => [r.subject, r.data.powerW])).toEqual([
      ['meter-1', 1],
      ['meter-1', 3],
    ]);
    const lastSeen = first.frames.at(-1)?.id ?? '';
    expect(lastSeen).toMatch(/^.+-\d+$/);

    // when it drops, misses two readings (another client sees them pass) and reconnects with
    // the id it saw last
    await first.close();
    const watcher = openStream('/v1/stream?deviceId=meter-1&kinds=reading', {
      authorization: acme,
    });
    await watcher.open;
    await post(acme, [
      { deviceId: 'meter-1', powerW: 4 },
      { deviceId: 'meter-1', powerW: 5 },
    ]);
    await eventually('the readings after the drop', async () =>
      watcher.readings().some((r) => r.data.powerW === 5) ? true : undefined,
    );
    await watcher.close();
    const resumed = openStream('/v1/stream?siteId=site-1&kinds=reading', {
      authorization: acme,
      'last-event-id': lastSeen,
    });
    await resumed.open;
    await post(acme, [{ deviceId: 'meter-1', powerW: 6 }]);
    // then it gets what it missed, then what is new, each once
    await eventually('the missed readings and the new one', async () =>
      resumed.readings().length >= 3 ? true : undefined,
    );
    expect(resumed.readings().map((r) => r.data.powerW)).toEqual([4, 5, 6]);
    await resumed.close();
  });

  it('starts with a reset event when it cannot resume from the id', async () => {
    const stream = openStream('/v1/stream', { authorization: acme, 'last-event-id': 'gone-42' });
    await eventually('a reset', async () => (stream.frames.length > 0 ? true : undefined));
    expect(stream.frames[0]).toMatchObject({ event: 'reset' });
    expect(JSON.parse(stream.frames[0]?.data ?? '{}')).toEqual({ reason: 'unknown-epoch' });
    await stream.close();
  });

  it('sends alerts of the device asked for', async () => {
    const stream = openStream('/v1/stream?deviceId=meter-1&kinds=alert', { authorization: acme });
    await stream.open;
    // when meter-1's import counter drops (a meter reset)
    // (later than its readings so far: the alerts processor passes over late readings)
    const t0 = Date.now() + 1_000;
    const response = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers: { authorization: acme },
      payload: {
        readings: [
          { deviceId: 'meter-1', time: new Date(t0).toISOString(), importWh: 90_000 },
          { deviceId: 'meter-1', time: new Date(t0 + 1000).toISOString(), importWh: 4 },
        ],
      },
    });
    expect(response.statusCode).toBe(202);
    await eventually('an alert', async () => (stream.frames.length > 0 ? true : undefined));
    expect(stream.frames[0]?.event).toBe('alert');
    expect(JSON.parse(stream.frames[0]?.data ?? '{}')).toMatchObject({
      type: EventType.alertRaised,
      subject: 'meter-1',
      data: { kind: 'meter-reset' },
    });
    expect(stream.readings()).toEqual([]);
    await stream.close();
  });

  it('refuses a stream without a key', async () => {
    const response = await fetch(`${base}/v1/stream`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
