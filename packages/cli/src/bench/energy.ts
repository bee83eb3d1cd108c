import os from 'node:os';
import { spawn } from 'node:child_process';
import { questDbConnection, questDbHttp } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { createKafka, kafkaSettings } from '@gridstream/kafka';
import { committedReadings } from '@gridstream/processor-energy';
import {
  bufferReadingRows,
  createIlpSender,
  createQuestDbReader,
  energyTables,
  ensureReadingsTable,
  readingsTableName,
  waitForWalApplied,
} from '@gridstream/questdb';
import { loadEvents } from './load.ts';
import { memoryBoundMiB, serviceArgv, serviceEnv, serviceNamed } from '../services.ts';
import {
  busiestThreads,
  cpuSeconds,
  formatRate,
  localStackPid,
  peakRssMiB,
  pollUntil,
  threadCpuSeconds,
} from './measure.ts';
import type { ThreadCpu } from './measure.ts';

export interface EnergyBenchOptions {
  readonly readings: number;
  readonly devices: number;
  /** Processors in the processor's process, one per worker thread (GS_ENERGY_WORKERS). */
  readonly workers: number;
  readonly log: (line: string) => void;
}

const START_MS = Date.UTC(2026, 0, 1);
const READING_INTERVAL_MS = 10_000;

/** The n-th reading of the run: devices take turns, each reading 10 s after the device's last. */
export function benchReading(n: number, devices: number): GridstreamEvent {
  const device = n % devices;
  const step = Math.floor(n / devices);
  const deviceId = `bench-meter-${String(device).padStart(5, '0')}`;
  const powerW = 500 + ((device * 37 + step * 11) % 1500);
  return {
    id: `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'bench',
    subject: deviceId,
    time: new Date(START_MS + step * READING_INTERVAL_MS).toISOString(),
    tenant: 'bench',
    data: { deviceId, powerW, importWh: 1_000_000 + step * 3, quality: 'good' },
  };
}

function loadKafka(config: Config, options: EnergyBenchOptions): Promise<number> {
  return loadEvents(config, 'readings', options.readings, (n) => benchReading(n, options.devices));
}

/** CPU seconds used during the processor phase; undefined where it cannot be read. */
interface CpuUse {
  readonly processor: number | undefined;
  readonly questdb: number | undefined;
  readonly kafka: number | undefined;
}

async function serverCpu(
  config: Config,
): Promise<{ questdb?: number | undefined; kafka?: number | undefined }> {
  const [questdb, kafka] = await Promise.all(
    (['questdb', 'kafka'] as const).map(async (server) => {
      const pid = await localStackPid(config.GS_HOME, server);
      return pid === undefined ? undefined : cpuSeconds(pid);
    }),
  );
  return { questdb, kafka };
}

function difference(after: number | undefined, before: number | undefined): number | undefined {
  return after === undefined || before === undefined ? undefined : after - before;
}

function energyService() {
  const service = serviceNamed('energy');
  if (service === undefined) throw new Error('no energy service in SERVICES');
  return service;
}

/** The energy processor as its own process, so its memory is its own. */
async function runProcessor(
  config: Config,
  options: EnergyBenchOptions,
): Promise<{
  ms: number;
  /** Until the first committed batch was seen (sampled every 200 ms). */
  startUpMs: number;
  /** From the first committed batch seen to the last: the steady rate, start-up left out. */
  sustained: { readings: number; ms: number } | undefined;
  peakRssMiB: number | undefined;
  cpu: CpuUse;
  /** The processor's threads' CPU at the last sample, by thread id. */
  threads: ThreadCpu;
}> {
  // Started as `gridstream run energy` starts it: its node flags and the heap limit of its bound.
  const child = spawn(process.execPath, serviceArgv(energyService()), {
    env: serviceEnv(energyService(), {
      ...process.env,
      GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
      GS_QDB_TABLE_PREFIX: config.GS_QDB_TABLE_PREFIX,
      GS_LOG_LEVEL: 'warn',
      GS_ENERGY_WORKERS: String(options.workers),
    }),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const started = Date.now();
  const servers = await serverCpu(config);
  // One client for every sample: one made per sample (every 200 ms) connected and authenticated
  // (SCRAM) each time, CPU of this process and Kafka's taken from what is measured.
  const progress = createKafka(
    kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-progress`),
  ).admin();
  await progress.connect();
  let peak: number | undefined;
  let processorCpu: number | undefined;
  let threads: ThreadCpu = new Map();
  /** The first sample that saw a committed batch: the end of the process's start-up. */
  let firstCommit: { readonly atMs: number; readonly readings: number } | undefined;
  try {
    await pollUntil(async () => {
      peak = Math.max(peak ?? 0, (await peakRssMiB(child.pid ?? -1)) ?? 0);
      processorCpu = (await cpuSeconds(child.pid ?? -1)) ?? processorCpu;
      const sampled = await threadCpuSeconds(child.pid ?? -1);
      if (sampled.size > 0) threads = sampled;
      const committed = await committedReadings(config, progress);
      if (firstCommit === undefined && committed > 0)
        firstCommit = { atMs: Date.now(), readings: committed };
      return committed >= options.readings;
    }, 30 * 60_000);
    const serversAfter = await serverCpu(config);
    const endMs = Date.now();
    return {
      ms: endMs - started,
      startUpMs: (firstCommit?.atMs ?? endMs) - started,
      sustained:
        firstCommit === undefined || endMs === firstCommit.atMs
          ? undefined
          : { readings: options.readings - firstCommit.readings, ms: endMs - firstCommit.atMs },
      peakRssMiB: peak,
      threads,
      cpu: {
        processor: processorCpu,
        questdb: difference(serversAfter.questdb, servers.questdb),
        kafka: difference(serversAfter.kafka, servers.kafka),
      },
    };
  } finally {
    child.kill('SIGTERM');
    await progress.disconnect();
  }
}

/**
 * Each of the processor's tables' WAL transactions, which QuestDB applies one by one: an
 * out-of-order one rewrites the partition's rows from its earliest on, so their number is much
 * of QuestDB's cost a reading.
 */
async function commitsPerTable(config: Config): Promise<string> {
  const tables = energyTables(config.GS_QDB_TABLE_PREFIX);
  const reader = createQuestDbReader(questDbConnection(config));
  try {
    const rows = await reader.query<{ name: string; sequencerTxn: number | string }>(
      'SELECT name, sequencerTxn FROM wal_tables()',
    );
    const txns = new Map(rows.map((row) => [row.name, Number(row.sequencerTxn)]));
    return (
      [
        ['readings', tables.readings],
        ['device quarter hours', tables.deviceEnergy15m],
        ['site quarter hours', tables.siteEnergy15m],
      ] as const
    )
      .map(([label, table]) => `${label} ${txns.get(table) ?? 'n/a'}`)
      .join(', ');
  } finally {
    await reader.close();
  }
}

/** Reference: the same rows written straight to QuestDB over ILP/HTTP, 10,000 per request. */
async function plainIlp(
  config: Config,
  options: EnergyBenchOptions,
): Promise<{ ackMs: number; appliedMs: number; questdbCpu: number | undefined }> {
  const table = readingsTableName(`${config.GS_QDB_TABLE_PREFIX}ilp_`);
  const reader = createQuestDbReader(questDbConnection(config));
  await ensureReadingsTable(reader, table);
  const sender = await createIlpSender(questDbHttp(config));
  const servers = await serverCpu(config);
  const started = Date.now();
  for (let from = 0; from < options.readings; from += 10_000) {
    const batch = [];
    for (let n = from; n < Math.min(from + 10_000, options.readings); n++) {
      batch.push({ event: benchReading(n, options.devices), partition: 0, offset: String(n) });
    }
    await bufferReadingRows(sender, table, batch);
    await sender.flush();
  }
  const ackMs = Date.now() - started;
  await waitForWalApplied(reader, table, 10 * 60_000);
  const appliedMs = Date.now() - started;
  const questdbCpu = difference((await serverCpu(config)).questdb, servers.questdb);
  await sender.close();
  await reader.close();
  return { ackMs, appliedMs, questdbCpu };
}

export async function benchEnergy(config: Config, options: EnergyBenchOptions): Promise<void> {
  const { log } = options;
  log(
    `bench energy: ${options.readings.toLocaleString('en-US')} readings from ${options.devices.toLocaleString('en-US')} devices, ${config.GS_TOPIC_PARTITIONS} partitions, ${options.workers} processor worker(s), topic prefix ${config.GS_TOPIC_PREFIX}`,
  );
  const loadMs = await loadKafka(config, options);
  log(
    `  loaded into Kafka in ${(loadMs / 1000).toFixed(1)} s (${formatRate(options.readings, loadMs)})`,
  );
  const processed = await runProcessor(config, options);
  log(
    `  energy processor, Kafka -> QuestDB committed: ${(processed.ms / 1000).toFixed(1)} s, ${formatRate(options.readings, processed.ms)} (includes process start-up)`,
  );
  const { sustained } = processed;
  log(
    `  sustained, from the first committed batch (${(processed.startUpMs / 1000).toFixed(1)} s after start) to the last: ${sustained === undefined ? 'n/a (one batch)' : `${sustained.readings.toLocaleString('en-US')} readings in ${(sustained.ms / 1000).toFixed(1)} s, ${formatRate(sustained.readings, sustained.ms)}`}`,
  );
  log(
    `  energy processor peak RSS: ${processed.peakRssMiB === undefined ? 'n/a' : `${processed.peakRssMiB.toFixed(0)} MiB`} (its bound ${memoryBoundMiB(energyService())} MiB)`,
  );
  const perReading = (seconds: number | undefined) =>
    seconds === undefined
      ? 'n/a'
      : `${seconds.toFixed(1)} s (${((seconds / options.readings) * 1e6).toFixed(0)} µs/reading)`;
  log(
    `  CPU in that phase: processor ${perReading(processed.cpu.processor)}, QuestDB ${perReading(processed.cpu.questdb)}, Kafka ${perReading(processed.cpu.kafka)}; ${os.availableParallelism()} cores`,
  );
  log(`  QuestDB commits (WAL transactions) per table: ${await commitsPerTable(config)}`);
  // A worker thread is at most one core: the busiest one bounds the rate of its share.
  log(
    `  busiest threads of the processor: ${processed.threads.size === 0 ? 'n/a' : busiestThreads(processed.threads, options.readings)}`,
  );
  const ilp = await plainIlp(config, options);
  log(
    `  reference, plain ILP/HTTP writes of the same rows: acknowledged ${formatRate(options.readings, ilp.ackMs)}, WAL applied ${formatRate(options.readings, ilp.appliedMs)}; QuestDB CPU ${perReading(ilp.questdbCpu)}`,
  );
}
