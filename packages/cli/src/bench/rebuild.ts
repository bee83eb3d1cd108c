import { Writable } from 'node:stream';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { connectMongo } from '@gridstream/mongo';
import { rebuildProjection } from '@gridstream/projection';
import { devicesProjection } from '@gridstream/projection-devices';
import { replayEvents } from '../replay/replay.ts';
import { loadEvents } from './load.ts';
import { formatRate, peakRssMiB } from './measure.ts';

export interface RebuildBenchOptions {
  readonly events: number;
  readonly devices: number;
  readonly log: (line: string) => void;
}

const START_MS = Date.UTC(2026, 0, 1);

/**
 * The resident memory the rebuild and the replay are meant to stay within (issue 15), printed
 * beside the bench process's peak. Measured only: nothing in the process enforces it yet.
 */
const REBUILD_MEMORY_TARGET_MIB = 600;

/** The bench process's peak RSS so far beside the target; the peak never falls, so it is cumulative. */
async function peakRssAgainstTarget(): Promise<string> {
  const peak = await peakRssMiB(process.pid);
  return `bench process peak RSS ${peak?.toFixed(0) ?? 'n/a'} MiB (target ${REBUILD_MEMORY_TARGET_MIB} MiB)`;
}
const deviceId = (n: number) => `bench-plug-${String(n).padStart(5, '0')}`;

function registration(n: number): GridstreamEvent {
  return {
    id: `00000000-0000-7000-8001-${n.toString(16).padStart(12, '0')}`,
    type: EventType.deviceRegistered,
    source: 'bench',
    subject: deviceId(n),
    time: new Date(START_MS).toISOString(),
    tenant: 'bench',
    data: {
      deviceId: deviceId(n),
      siteId: `bench-site-${String(Math.floor(n / 6)).padStart(4, '0')}`,
      kind: 'smart_plug',
      role: 'consumer',
      name: `Plug ${n}`,
      timeZone: 'Europe/Berlin',
    },
  };
}

function reading(n: number, devices: number): GridstreamEvent {
  const device = n % devices;
  const step = Math.floor(n / devices);
  return {
    id: `00000000-0000-7000-8002-${n.toString(16).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'bench',
    subject: deviceId(device),
    time: new Date(START_MS + 60_000 + step * 10_000).toISOString(),
    tenant: 'bench',
    data: { deviceId: deviceId(device), powerW: (device * 37 + step) % 2300, quality: 'good' },
  };
}

/** A sink that drops what it is given, so the replay figure is the replay's, not a disk's. */
function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

/**
 * Loads a log of registrations and readings, rebuilds the devices projection from it (no live
 * service runs, so the switch is immediate), then replays the same log to NDJSON.
 */
export async function benchRebuild(config: Config, options: RebuildBenchOptions): Promise<void> {
  const { log } = options;
  const readings = options.events - options.devices;
  log(
    `bench rebuild: ${options.events.toLocaleString('en-US')} events (${options.devices.toLocaleString('en-US')} registrations, ${readings.toLocaleString('en-US')} readings), ${config.GS_TOPIC_PARTITIONS} partitions, topic prefix ${config.GS_TOPIC_PREFIX}`,
  );
  const loadMs =
    (await loadEvents(config, 'devices', options.devices, registration)) +
    (await loadEvents(config, 'readings', readings, (n) => reading(n, options.devices)));
  log(
    `  loaded into Kafka in ${(loadMs / 1000).toFixed(1)} s (${formatRate(options.events, loadMs)})`,
  );

  const rebuilt = await rebuildProjection(config, devicesProjection, {
    servedTimeoutMs: 0,
    caughtUpLag: 0,
  });
  log(
    `  rebuild of the devices projection: ${rebuilt.appliedEvents.toLocaleString('en-US')} events in ${(rebuilt.caughtUpMs / 1000).toFixed(1)} s, ${formatRate(rebuilt.appliedEvents, rebuilt.caughtUpMs)} (until caught up, before the switch); ${await peakRssAgainstTarget()}`,
  );
  const mongo = await connectMongo(config);
  try {
    const documents = await mongo.db.collection(`devices_${rebuilt.buildId}`).countDocuments();
    log(`  documents in the new build: ${documents.toLocaleString('en-US')}`);
    const replayed = await replayEvents(config, {
      filter: { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER },
      format: 'ndjson',
      out: discard(),
    });
    log(
      `  replay to NDJSON: ${replayed.written.toLocaleString('en-US')} events in ${(replayed.ms / 1000).toFixed(1)} s, ${formatRate(replayed.written, replayed.ms)}; ${await peakRssAgainstTarget()}, rebuild and replay together`,
    );
  } finally {
    await mongo.close();
  }
}
