import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { isolatedConfig, uniqueSuffix } from '../../../../test/support.ts';
import { dropTestData } from '../../../../test/cleanup.ts';
import { replayEvents } from './replay.ts';

const HOUR_MS = 3_600_000;
const t0 = Date.UTC(2026, 10, 24, 8, 0);
let seq = 0;

function event(
  tenant: string,
  deviceId: string,
  atMs: number,
  type: 'reading' | 'registered',
): GridstreamEvent {
  const base = {
    id: `01930000-0000-7000-8000-${String(++seq).padStart(12, '0')}`,
    source: 'test',
    subject: deviceId,
    time: new Date(atMs).toISOString(),
    tenant,
  };
  return type === 'registered'
    ? {
        ...base,
        type: EventType.deviceRegistered,
        data: {
          deviceId,
          siteId: deviceId.startsWith('a-') ? 'site-a' : 'site-b',
          kind: 'meter',
          role: 'grid',
          name: deviceId,
          timeZone: 'Europe/Berlin',
        },
      }
    : {
        ...base,
        type: EventType.readingReported,
        data: { deviceId, powerW: seq, quality: 'good' },
      };
}

describe('replay on the real Kafka', () => {
  let config: Config;
  let publisher: EventPublisher;
  const history: GridstreamEvent[] = [];

  beforeAll(async () => {
    config = isolatedConfig();
    const kafka = createKafka(kafkaSettings(config, 'test-replay'));
    await createTopicsIfMissing(kafka, topicNames(config.GS_TOPIC_PREFIX), 3);
    publisher = await createEventPublisher(kafka, topicNames(config.GS_TOPIC_PREFIX));
    // two tenants, devices on two sites, a reading every 10 minutes for three hours
    for (const tenant of ['acme', 'other'])
      for (const deviceId of ['a-1', 'a-2', 'b-1']) {
        history.push(event(tenant, deviceId, t0 - HOUR_MS, 'registered'));
        for (let m = 0; m < 180; m += 10)
          history.push(event(tenant, deviceId, t0 + m * 60_000, 'reading'));
      }
    await publisher.publish(history);
  });

  afterAll(async () => {
    await publisher.disconnect();
    await dropTestData(config);
  });

  it('writes exactly the events of the time range and filters, and stops at the end it saw', async () => {
    // given a window of one hour of event time, one tenant, one site, readings only
    const fromMs = t0 + HOUR_MS;
    const toMs = t0 + 2 * HOUR_MS;
    const expected = history.filter(
      (e) =>
        e.type === EventType.readingReported &&
        e.tenant === 'acme' &&
        e.subject.startsWith('a-') &&
        Date.parse(e.time) >= fromMs &&
        Date.parse(e.time) < toMs,
    );
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    // and events that match but are published after the replay has begun
    const late = [event('acme', 'a-1', fromMs + 60_000, 'reading')];
    let publishedLate: Promise<void> | undefined;
    // when the replay runs
    const result = await replayEvents(config, {
      filter: {
        fromMs,
        toMs,
        tenants: new Set(['acme']),
        types: new Set([EventType.readingReported]),
      },
      sites: ['site-a'],
      format: 'ndjson',
      out,
      progress: () => {
        publishedLate ??= publisher.publish(late);
      },
    });
    await publishedLate;
    // then it wrote those events, each once, in CloudEvents structured mode
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; data: unknown });
    expect(lines.map((l) => l.id).sort()).toEqual(expected.map((e) => e.id).sort());
    expect(lines.find((l) => l.id === expected[0]?.id)?.data).toEqual(expected[0]?.data);
    expect(result.written).toBe(expected.length);
    // and nothing published after it started
    expect(lines.map((l) => l.id)).not.toContain(late[0]?.id);
  });

  it('writes CSV with a header and one row per event from the command line', async () => {
    const file = join(tmpdir(), `replay-${uniqueSuffix()}.csv`);
    const main = fileURLToPath(new URL('../main.ts', import.meta.url));
    await promisify(execFile)(
      process.execPath,
      [
        main,
        'replay',
        '--tenant',
        'other',
        '--device',
        'b-1',
        '--type',
        'reading.reported',
        '--format',
        'csv',
        '--out',
        file,
      ],
      {
        env: {
          ...process.env,
          GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
          GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
        },
      },
    );
    const rows = (await readFile(file, 'utf8')).trimEnd().split('\r\n');
    const header = rows[0]?.split(',') ?? [];
    expect(header.slice(0, 6)).toEqual(['time', 'type', 'tenant', 'subject', 'id', 'source']);
    expect(rows).toHaveLength(1 + 18);
    const powerColumn = header.indexOf('powerW');
    const first = history.find(
      (e) => e.tenant === 'other' && e.subject === 'b-1' && e.type === EventType.readingReported,
    );
    expect(rows[1]?.split(',')[powerColumn]).toBe(
      String((first?.data as { powerW: number }).powerW),
    );
  });
});
