import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import fc from 'fast-check';
import { EventType } from '@gridstream/events';
import type { EventOf, GridstreamEvent } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import type { EventPublisher } from '@gridstream/kafka';
import { energyTables, waitForWalApplied } from '@gridstream/questdb';
import type { QuestDbReader } from '@gridstream/questdb';
import type { Config } from '@gridstream/config';
import { eventually, isolatedConfig, stackQuestDbReader } from '../../../test/support.ts';
import { dropTestData, readTopic } from '../../../test/cleanup.ts';
import {
  DEFAULT_ENERGY_SETTINGS,
  DeviceTimeline,
  mergeEnergyReadings,
  quarterHourStartsBetween,
  spanIntervals,
  toEnergyReading,
} from '@gridstream/energy-core';
import type { EnergyReading } from '@gridstream/energy-core';
import {
  ENERGY_PROCESSOR_NODE_FLAGS,
  committedReadings,
  energyProcessorGroupId,
  startEnergyProcessor,
} from './run.ts';

const tenant = 'acme';
const START_MS = Date.UTC(2026, 2, 29, 0, 0); // the Berlin DST day
const READINGS_PER_DEVICE = 180; // one a minute for three hours

function registration(deviceId: string, role: 'grid' | 'consumer'): GridstreamEvent {
  return {
    id: `00000000-0000-7000-8000-${deviceId.padStart(12, '0').slice(-12)}`,
    type: EventType.deviceRegistered,
    source: 'test',
    subject: deviceId,
    time: '2026-03-28T00:00:00Z',
    tenant,
    data: {
      deviceId,
      siteId: 'site-1',
      kind: role === 'grid' ? 'meter' : 'smart_plug',
      role,
      name: deviceId,
      timeZone: 'Europe/Berlin',
    },
  };
}

/** Per site: a meter with counters (one reset) and a plug with power only (one 20-minute gap). */
function readings(sites = 1): EventOf<typeof EventType.readingReported>[] {
  const out: EventOf<typeof EventType.readingReported>[] = [];
  for (let site = 0; site < sites; site++) {
    const meter = site === 0 ? 'meter-1' : `meter-1-${site}`;
    const plug = site === 0 ? 'plug-1' : `plug-1-${site}`;
    let importWh = 5000;
    for (let i = 0; i < READINGS_PER_DEVICE; i++) {
      const time = new Date(START_MS + i * 60_000).toISOString();
      importWh = i === 100 ? 7 : importWh + 10 + ((i + site) % 7);
      out.push({
        id: `00000000-0000-7000-8${String(site).padStart(3, '0')}-${String(i).padStart(12, '0')}`,
        type: EventType.readingReported,
        source: 'test',
        subject: meter,
        time,
        tenant,
        data: {
          deviceId: meter,
          importWh,
          exportWh: 100 + Math.floor(i / 3),
          powerW: 600,
          phases: {
            l1: { powerW: 300 + (i % 11) * 10 },
            l2: { powerW: 200 - (i % 5) * 60 },
            l3: { powerW: 100 },
          },
          quality: 'good',
        },
      });
      if (i >= 60 && i < 80) continue; // the plug is silent for 20 minutes
      out.push({
        id: `00000000-0000-7001-8${String(site).padStart(3, '0')}-${String(i).padStart(12, '0')}`,
        type: EventType.readingReported,
        source: 'test',
        subject: plug,
        time,
        tenant,
        data: {
          deviceId: plug,
          powerW: 100 + ((i * 37 + site) % 900),
          quality: i % 50 === 0 ? 'estimated' : 'good',
        },
      });
    }
  }
  return out;
}

interface QuarterFigures {
  importWh: number;
  exportWh: number;
  l1ImportWh?: number | null;
  l2ExportWh?: number | null;
}

/** What the processor must store: the distinct readings folded once, in time order. */
function expectedQuarterHours(
  all: readonly EventOf<typeof EventType.readingReported>[],
  withPhases = false,
  untilMs = START_MS + READINGS_PER_DEVICE * 60_000,
) {
  const expected = new Map<string, QuarterFigures>();
  for (const deviceId of new Set(all.map((e) => e.subject))) {
    const mine = all
      .filter((e) => e.subject === deviceId)
      .map((e) => toEnergyReading(Date.parse(e.time), e.data));
    const unbounded = { maxReadings: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER };
    const timeline = DeviceTimeline.rebuild(
      deviceId,
      mine,
      DEFAULT_ENERGY_SETTINGS,
      unbounded,
      'whole',
    );
    for (const startMs of quarterHourStartsBetween(START_MS, untilMs)) {
      const q = timeline.quarterHour(startMs);
      expected.set(`${deviceId} ${new Date(startMs).toISOString()}`, {
        importWh: q.importWh,
        exportWh: q.exportWh,
        ...(withPhases
          ? {
              l1ImportWh: q.phases.l1?.importWh ?? null,
              l2ExportWh: q.phases.l2?.exportWh ?? null,
            }
          : {}),
      });
    }
  }
  return expected;
}

async function storedQuarterHours(reader: QuestDbReader, config: Config, withPhases = false) {
  const table = energyTables(config.GS_QDB_TABLE_PREFIX).deviceEnergy15m;
  await waitForWalApplied(reader, table);
  const rows = await reader.query<{
    ts: Date;
    device_id: string;
    import_wh: number;
    export_wh: number;
    l1_import_wh: number | null;
    l2_export_wh: number | null;
  }>(
    `SELECT ts, device_id, import_wh, export_wh, l1_import_wh, l2_export_wh FROM "${table}" ORDER BY device_id, ts`,
  );
  return new Map(
    rows.map((r): [string, QuarterFigures] => [
      `${r.device_id} ${r.ts.toISOString()}`,
      {
        importWh: r.import_wh,
        exportWh: r.export_wh,
        ...(withPhases ? { l1ImportWh: r.l1_import_wh, l2ExportWh: r.l2_export_wh } : {}),
      },
    ]),
  );
}

/** Each reading's stored delta, against the interval of the distinct readings in time order. */
async function storedDeltas(reader: QuestDbReader, config: Config) {
  const table = energyTables(config.GS_QDB_TABLE_PREFIX).readings;
  await waitForWalApplied(reader, table);
  const rows = await reader.query<{
    ts: Date;
    device_id: string;
    delta_method: string;
    delta_import_wh: number | null;
    delta_l1_import_wh: number | null;
  }>(
    `SELECT ts, device_id, delta_method, delta_import_wh, delta_l1_import_wh FROM "${table}" ORDER BY device_id, ts`,
  );
  return rows.map((r) => [
    `${r.device_id} ${r.ts.toISOString()}`,
    r.delta_method,
    r.delta_import_wh,
    r.delta_l1_import_wh,
  ]);
}

/** Each device's readings as the core sees them: the parts of an instant merged, in time order. */
function mergedReadings(
  all: readonly EventOf<typeof EventType.readingReported>[],
  deviceId: string,
): EnergyReading[] {
  const mine = all
    .filter((e) => e.subject === deviceId)
    .map((e) => toEnergyReading(Date.parse(e.time), e.data));
  return [...Map.groupBy(mine, (r) => r.timeMs).values()]
    .map((parts) => parts.reduce(mergeEnergyReadings))
    .sort((a, b) => a.timeMs - b.timeMs);
}

function expectedDeltas(all: readonly EventOf<typeof EventType.readingReported>[]) {
  const rows: (string | number | null)[][] = [];
  for (const deviceId of [...new Set(all.map((e) => e.subject))].sort()) {
    const mine = mergedReadings(all, deviceId);
    const intervals = spanIntervals(mine, DEFAULT_ENERGY_SETTINGS);
    mine.forEach((reading, i) => {
      const interval = i === 0 ? undefined : intervals[i - 1];
      rows.push([
        `${deviceId} ${new Date(reading.timeMs).toISOString()}`,
        interval?.method ?? 'first',
        interval?.importWh ?? null,
        interval?.phases?.l1?.importWh ?? null,
      ]);
    });
  }
  return rows;
}

/** The last published figures of each device's quarter hour, from the energy topic. */
async function publishedQuarterHours(config: Config) {
  const published = new Map<string, QuarterFigures>();
  for (const letter of await readTopic(config, 'energy')) {
    const data = JSON.parse(letter.value) as {
      deviceId: string;
      bucketStart: string;
      importWh: number;
      exportWh: number;
      phases?: { l1?: { importWh: number }; l2?: { exportWh: number } };
    };
    published.set(`${data.deviceId} ${data.bucketStart}`, {
      importWh: data.importWh,
      exportWh: data.exportWh,
      l1ImportWh: data.phases?.l1?.importWh ?? null,
      l2ExportWh: data.phases?.l2?.exportWh ?? null,
    });
  }
  return published;
}

describe('the energy processor on the real Kafka and QuestDB', () => {
  const configs: Config[] = [];
  const publishers: EventPublisher[] = [];
  let reader: QuestDbReader;

  beforeAll(() => {
    reader = stackQuestDbReader();
  });

  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.disconnect()));
    for (const config of configs) await dropTestData(config);
    await reader.close();
  });

  async function prepare() {
    const config = isolatedConfig();
    configs.push(config);
    const kafka = createKafka(kafkaSettings(config, 'test-energy'));
    await createTopicsIfMissing(
      kafka,
      topicNames(config.GS_TOPIC_PREFIX),
      config.GS_TOPIC_PARTITIONS,
    );
    const publisher = await createEventPublisher(kafka, topicNames(config.GS_TOPIC_PREFIX));
    publishers.push(publisher);
    await publisher.publish([registration('meter-1', 'grid'), registration('plug-1', 'consumer')]);
    return { config, publisher };
  }

  it('stores the same quarter-hours for shuffled, duplicated input across a restart', async () => {
    const { config, publisher } = await prepare();
    const all = readings();
    // given the readings shuffled, a fifth of them twice, split at a restart point
    const shuffled =
      fc.sample(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), {
        numRuns: 1,
        seed: 42,
      })[0] ?? all;
    const input = [...shuffled, ...shuffled.filter((_, i) => i % 5 === 0)];
    const restartAt = Math.floor(input.length * 0.4);
    // when a processor handles the first part, stops, and a new one handles the rest
    let processor = await startEnergyProcessor(config);
    await publisher.publish(input.slice(0, restartAt));
    await eventually(
      'the first part committed',
      async () => ((await committedReadings(config)) >= restartAt ? true : undefined),
      90_000,
    );
    await processor.stop();
    processor = await startEnergyProcessor(config);
    await publisher.publish(input.slice(restartAt));
    await eventually(
      'everything committed',
      async () => ((await committedReadings(config)) >= input.length ? true : undefined),
      90_000,
    );
    await processor.stop();
    // then every stored quarter-hour, per phase too, equals the distinct readings folded once
    // in time order
    const stored = await storedQuarterHours(reader, config, true);
    const expected = expectedQuarterHours(all, true);
    for (const [key, figures] of stored) expect(figures, key).toEqual(expected.get(key));
    expect(stored.size).toBe(expected.size);
    // and the meter's reset never produced negative energy
    for (const figures of stored.values())
      expect(Math.min(figures.importWh, figures.exportWh)).toBeGreaterThanOrEqual(0);
    // and every reading's row carries its own interval's energy
    expect(await storedDeltas(reader, config)).toEqual(expectedDeltas(all));
    // and the last published figures of every closed quarter hour (all but each device's last)
    // are the stored ones, and the open quarter hours were not published
    const published = await publishedQuarterHours(config);
    const lastQuarter = new Date(START_MS + (READINGS_PER_DEVICE - 15) * 60_000).toISOString();
    const closed = [...expected].filter(([key]) => !key.endsWith(lastQuarter));
    expect(published).toEqual(new Map(closed));
    // and the processor refreshed the site view: its sums are the device rows' sums
    const sum = (device: string) =>
      [...stored]
        .filter(([key]) => key.startsWith(`${device} `))
        .reduce((t, [, f]) => t + f.importWh, 0);
    const buckets = new Set([...stored.keys()].map((key) => key.split(' ')[1])).size;
    const view = await eventually(
      'the site view refreshed with every quarter hour',
      async () => {
        const [row] = await reader.query<{ grid: number; consumers: number; buckets: string }>(
          `SELECT sum(grid_import_wh) grid, sum(metered_consumers_wh) consumers, count() buckets
           FROM "${energyTables(config.GS_QDB_TABLE_PREFIX).siteEnergy15m}"`,
        );
        return Number(row?.buckets) === buckets &&
          Math.abs((row?.grid ?? 0) - sum('meter-1')) < 1e-6
          ? row
          : undefined;
      },
      30_000,
    );
    expect(view.consumers).toBeCloseTo(sum('plug-1'), 6);
  });

  it("counts through a counter's wrap for a device registered with its register size", async () => {
    // given a meter registered with a register that wraps at 100 000 Wh and one registered
    // without, both reading 99 000, 99 500, 99 900, then 200 and 700 Wh
    const { config, publisher } = await prepare();
    const wrapping = registration('wrap-meter', 'grid');
    if (wrapping.type !== EventType.deviceRegistered) throw new Error('not a registration');
    await publisher.publish([
      { ...wrapping, data: { ...wrapping.data, nameplate: { counterWrapWh: 100_000 } } },
      registration('plain-meter', 'grid'),
    ]);
    const counters = [99_000, 99_500, 99_900, 200, 700];
    const input = ['wrap-meter', 'plain-meter'].flatMap((deviceId, d) =>
      counters.map((importWh, i): EventOf<typeof EventType.readingReported> => ({
        id: `00000000-0000-7002-800${d}-${String(i).padStart(12, '0')}`,
        type: EventType.readingReported,
        source: 'test',
        subject: deviceId,
        time: new Date(START_MS + i * 60_000).toISOString(),
        tenant,
        data: { deviceId, importWh, quality: 'good' },
      })),
    );

    // when the processor handles their readings
    const processor = await startEnergyProcessor(config);
    await publisher.publish(input);
    await eventually(
      'every reading committed',
      async () => ((await committedReadings(config)) >= input.length ? true : undefined),
      90_000,
    );
    await processor.stop();

    // then the wrapping meter's energy runs through the wrap (100 Wh to it, 200 after), flagged
    // a rollover, and the other meter's decrease is a reset that books the new value
    const table = energyTables(config.GS_QDB_TABLE_PREFIX).readings;
    await waitForWalApplied(reader, table);
    const rows = await reader.query<{
      device_id: string;
      delta_import_wh: number | null;
      delta_flags: string | null;
    }>(`SELECT device_id, delta_import_wh, delta_flags FROM "${table}" ORDER BY device_id, ts`);
    const of = (deviceId: string) =>
      rows
        .filter((r) => r.device_id === deviceId)
        .map((r) => [r.delta_import_wh, r.delta_flags ?? '']);
    expect(of('wrap-meter')).toEqual([
      [null, ''],
      [500, ''],
      [400, ''],
      [300, 'import_rollover'],
      [500, ''],
    ]);
    expect(of('plain-meter')).toEqual([
      [null, ''],
      [500, ''],
      [400, ''],
      [200, 'import_reset'],
      [500, ''],
    ]);
  });

  it('books a counter delta across power-only readings between, in any order, from QuestDB too', async () => {
    const { config: base, publisher } = await prepare();
    await publisher.publish([registration('gw-meter', 'grid')]);
    // given an hour of a meter whose gateway sends power every 10 s and the counter every
    // minute on its own: 5 s after the power for half an hour, then at the same instant
    const hourMs = 3_600_000;
    const powerW = (ms: number) => 900 + 500 * Math.sin((2 * Math.PI * ms) / 1_200_000);
    let countedWh = 0;
    const counterAt = new Map<number, number>();
    for (let ms = 0; ms <= hourMs; ms += 1_000) {
      if (ms > 0) countedWh += (powerW(ms - 1_000) + powerW(ms)) / 2 / 3_600;
      counterAt.set(ms, 20_000 + Math.floor(countedWh));
    }
    const event = (
      kind: number,
      ms: number,
      data: { powerW?: number; importWh?: number },
    ): EventOf<typeof EventType.readingReported> => ({
      id: `00000000-0000-7003-800${kind}-${String(ms / 1_000).padStart(12, '0')}`,
      type: EventType.readingReported,
      source: 'test',
      subject: 'gw-meter',
      time: new Date(START_MS + ms).toISOString(),
      tenant,
      data: { deviceId: 'gw-meter', ...data, quality: 'good' },
    });
    const all: EventOf<typeof EventType.readingReported>[] = [];
    for (let ms = 0; ms <= hourMs; ms += 10_000) {
      all.push(event(0, ms, { powerW: powerW(ms) }));
      if (ms % 60_000 !== 0) continue;
      const counterMs = ms < hourMs / 2 ? ms + 5_000 : ms;
      all.push(event(1, counterMs, { importWh: counterAt.get(counterMs) ?? 0 }));
    }
    // delivered in time order but for every seventh reading, which comes at the end, and the
    // counters of minutes 20 to 25, which come last and backwards; some twice. Timelines hold
    // four readings and ten minutes, so most late readings are placed from QuestDB.
    const late = all.filter(
      (e, i) =>
        i % 7 === 3 ||
        (e.id.includes('-8001-') && e.time >= '2026-03-29T00:20' && e.time < '2026-03-29T00:26'),
    );
    const input = [
      ...all.filter((e) => !late.includes(e)),
      ...late.filter((e) => e.id.includes('-8000-')),
      ...late.filter((e) => e.id.includes('-8001-')).reverse(),
      ...all.filter((_, i) => i % 20 === 0),
    ];
    const config = {
      ...base,
      GS_ENERGY_TIMELINE_READINGS: 4,
      GS_ENERGY_TIMELINE_HORIZON_MS: 10 * 60_000,
    };
    // when the processor handles them
    const processor = await startEnergyProcessor(config);
    try {
      await publisher.publish(input);
      await eventually(
        'everything committed',
        async () => ((await committedReadings(config)) >= input.length ? true : undefined),
        90_000,
      );
    } finally {
      await processor.stop();
    }
    // then every quarter hour and every reading's delta are those of the readings in time order,
    // the two parts of a same-instant reading stored as one row
    const untilMs = START_MS + hourMs;
    expect(await storedQuarterHours(reader, config)).toEqual(
      expectedQuarterHours(all, false, untilMs),
    );
    const deltas = await storedDeltas(reader, config);
    expect(deltas).toEqual(expectedDeltas(all));
    expect(deltas).toHaveLength(new Set(all.map((e) => e.time)).size);
    // and the hour holds what the meter counted between its first and last counter reading
    // (the 5 s before the first are unknown: a power reading next to a counter-only one)
    const table = energyTables(config.GS_QDB_TABLE_PREFIX).deviceEnergy15m;
    const [sums] = await reader.query<{ import_wh: number; unknown_ms: string }>(
      `SELECT sum(import_wh) import_wh, sum(unknown_ms) unknown_ms FROM "${table}"`,
    );
    const delta = (counterAt.get(hourMs) ?? 0) - (counterAt.get(5_000) ?? 0);
    expect(sums?.import_wh).toBeCloseTo(delta, 6);
    expect(Number(sums?.unknown_ms)).toBe(5_000);
    expect(deltas.filter(([, method]) => method === 'counter')).toHaveLength(deltas.length - 2);
    // and the last published figures of each quarter hour are the stored ones
    const published = await publishedQuarterHours(config);
    expect([...published].map(([key, q]) => [key, q.importWh])).toEqual(
      [...(await storedQuarterHours(reader, config))].map(([key, q]) => [key, q.importWh]),
    );
  });

  it('places readings older than its bounded memory from QuestDB, with the same result', async () => {
    const { config: base, publisher } = await prepare();
    // given timelines that hold only ten readings per device
    const config = {
      ...base,
      GS_ENERGY_TIMELINE_READINGS: 10,
      GS_ENERGY_TIMELINE_HORIZON_MS: 10 * 60_000,
    };
    const all = readings();
    const shuffled =
      fc.sample(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), {
        numRuns: 1,
        seed: 7,
      })[0] ?? all;
    // when the readings arrive in random order, so most are far older than what is held
    const processor = await startEnergyProcessor(config);
    try {
      await publisher.publish(shuffled);
      await eventually(
        'everything committed',
        async () => ((await committedReadings(config)) >= shuffled.length ? true : undefined),
        90_000,
      );
    } finally {
      await processor.stop();
    }
    // then every quarter-hour is still the in-order result
    expect(await storedQuarterHours(reader, config)).toEqual(expectedQuarterHours(all));
  });

  it('gives the in-order figures when a second instance takes partitions and gives them back', async () => {
    // given an instance that has handled the first hour of four sites' readings
    const { config, publisher } = await prepare();
    const all = readings(4);
    const hour = (h: number) =>
      all.filter((e) => {
        const ms = Date.parse(e.time) - START_MS;
        return ms >= h * 3_600_000 && ms < (h + 1) * 3_600_000;
      });
    const kafka = createKafka(kafkaSettings(config, 'test-energy-group'));
    const admin = kafka.admin();
    await admin.connect();
    const members = (count: number) =>
      eventually(`${count} members in the group, settled`, async () => {
        const [group] = (await admin.describeGroups([energyProcessorGroupId(config)])).groups;
        return group?.state === 'Stable' && group.members.length === count ? true : undefined;
      });
    const committed = (count: number) =>
      eventually(
        `${count} readings committed`,
        async () => ((await committedReadings(config)) >= count ? true : undefined),
        90_000,
      );
    const first = await startEnergyProcessor(config);
    try {
      await publisher.publish(hour(0));
      await committed(hour(0).length);
      // when a second instance joins, takes some partitions for the second hour, and leaves,
      // so the first gets them back, with their devices moved on, for the third hour
      const second = await startEnergyProcessor(config);
      await members(2);
      await publisher.publish(hour(1));
      await committed(hour(0).length + hour(1).length);
      await second.stop();
      await members(1);
      await publisher.publish(hour(2));
      await committed(all.length);
    } finally {
      await first.stop();
      await admin.disconnect();
    }
    // then every quarter hour and every row is what the readings give in time order
    expect(await storedQuarterHours(reader, config)).toEqual(expectedQuarterHours(all));
    expect(await storedDeltas(reader, config)).toEqual(expectedDeltas(all));
  });

  it('loses nothing and counts nothing twice when killed with -9 in the middle of the work', async () => {
    const { config, publisher } = await prepare();
    const all = readings(40);
    const entry = fileURLToPath(new URL('./main.ts', import.meta.url));
    const env = {
      ...process.env,
      GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
      GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
      GS_QDB_TABLE_PREFIX: config.GS_QDB_TABLE_PREFIX,
      GS_QDB_HTTP_URL: config.GS_QDB_HTTP_URL,
      GS_QDB_PG_PORT: String(config.GS_QDB_PG_PORT),
      GS_MONGO_URL: config.GS_MONGO_URL,
    };
    // The children's stderr is kept: it is what explains a failure of this test.
    const childLog: string[] = [];
    const start = (workers = 1): ChildProcess => {
      const child = spawn(process.execPath, [...ENERGY_PROCESSOR_NODE_FLAGS, entry], {
        env: { ...env, GS_ENERGY_WORKERS: String(workers) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (chunk: Buffer) => childLog.push(chunk.toString('utf8')));
      return child;
    };
    onTestFailed(() => {
      console.error(`energy processor stderr:\n${childLog.join('')}`);
    });
    // given a processor that dies by SIGKILL as soon as it has committed part of the log
    let child = start();
    const half = Math.floor(all.length / 2);
    await publisher.publish(all.slice(0, half));
    await eventually(
      'a first commit',
      async () => ((await committedReadings(config)) > 0 ? true : undefined),
      90_000,
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const before = await committedReadings(config);
    // when a new process takes over, two processors in worker threads of it
    child = start(2);
    await publisher.publish(all.slice(half));
    let exitCode: number | null = null;
    try {
      await eventually(
        'everything committed',
        async () => ((await committedReadings(config)) >= all.length ? true : undefined),
        90_000,
      );
    } finally {
      child.kill('SIGTERM');
      exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    }
    // then it stopped both cleanly, the kill did interrupt the work, and the result is exactly
    // the in-order result
    expect(exitCode).toBe(0);
    expect(before).toBeLessThan(all.length);
    const stored = await storedQuarterHours(reader, config);
    expect(stored).toEqual(expectedQuarterHours(all));
    const tables = energyTables(config.GS_QDB_TABLE_PREFIX);
    await waitForWalApplied(reader, tables.readings);
    const [counts] = await reader.query<{ n: string }>(
      `SELECT count() n FROM "${tables.readings}"`,
    );
    expect(Number(counts?.n)).toBe(all.length);
    // The new member waits out the killed one's 30 s session before it gets the partitions.
  }, 120_000);
});
