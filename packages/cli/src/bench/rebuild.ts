import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { benchProcessEnv } from './api.ts';
import { loadEvents } from './load.ts';
import { formatRate } from './measure.ts';
import type { RebuildChildLine } from './rebuild-child.ts';

export interface RebuildBenchOptions {
  readonly events: number;
  readonly devices: number;
  readonly log: (line: string) => void;
}

const START_MS = Date.UTC(2026, 0, 1);

/**
 * The resident memory the rebuild and the replay are meant to stay within (issue 15), printed
 * beside the peak of the process that runs them (the bench's loading of the log is not in it).
 */
const REBUILD_MEMORY_TARGET_MIB = 600;

/** V8's old generation of that process: half the bound, as `./gridstream rebuild|replay` run. */
const REBUILD_NODE_FLAGS = ['--max-old-space-size=300'];

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

  const against = (peak: number) =>
    `peak RSS ${peak.toFixed(0)} MiB (target ${REBUILD_MEMORY_TARGET_MIB} MiB)`;
  for (const line of await runRebuildChild(config)) {
    if (line.phase === 'rebuild') {
      log(
        `  rebuild of the devices projection: ${line.events.toLocaleString('en-US')} events in ${(line.ms / 1000).toFixed(1)} s, ${formatRate(line.events, line.ms)} (until caught up, before the switch); ${against(line.peakRssMiB)}`,
      );
      log(`  documents in the new build: ${line.documents.toLocaleString('en-US')}`);
    } else
      log(
        `  replay to NDJSON: ${line.events.toLocaleString('en-US')} events in ${(line.ms / 1000).toFixed(1)} s, ${formatRate(line.events, line.ms)}; ${against(line.peakRssMiB)}, rebuild and replay together`,
      );
  }
}

/**
 * Runs the rebuild and the replay in a process of their own (rebuild-child.ts) on this run's
 * topics and database, and returns what it said; fails if it fails.
 */
async function runRebuildChild(config: Config): Promise<RebuildChildLine[]> {
  const child = spawn(
    process.execPath,
    [...REBUILD_NODE_FLAGS, fileURLToPath(new URL('./rebuild-child.ts', import.meta.url))],
    {
      env: benchProcessEnv(config),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: RebuildChildLine[] = [];
  const exited = once(child, 'exit');
  for await (const text of createInterface({ input: child.stdout }))
    lines.push(JSON.parse(text) as RebuildChildLine);
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  if (code !== 0)
    throw new Error(`the rebuild's process ended with ${signal ?? `exit code ${code}`}`);
  return lines;
}
