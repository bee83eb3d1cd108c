import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { benchApi } from './api.ts';
import { dropRunData, EVERY_RUN, namesOf } from './cleanup.ts';
import { benchEnergy } from './energy.ts';
import { benchFaults, faultCounts } from './faults.ts';
import { benchFreshness } from './freshness.ts';
import { benchMqtt } from './mqtt.ts';
import { benchRebuild } from './rebuild.ts';

const USAGE = `usage: pnpm bench <name> [options]   (or ./gridstream bench <name> ...)

  energy   load readings into Kafka, run the energy processor, print the committed rate,
           its peak RSS, and the rate of plain ILP writes of the same rows
           --readings N (default 2000000)  --devices N (default 5000)
           --workers N (default 1, as the service runs: processors in worker threads of one process)
  rebuild  load registrations and readings into Kafka, rebuild the devices projection from
           them and print events/s, then replay them to NDJSON and print events/s
           --events N (default 1000000)  --devices N (default 5000)
  api      start the API as its own process, then post readings in batches through
           POST /v1/readings from several clients and print readings/s, alone and with the
           main queries beside it, and p50/p99 of the queries alone, beside that load and
           beside a paced load
           --seconds N (per phase, default 30)  --clients N (default 8)  --batch N (default 1000)
           --devices N (default 5000)  --query-clients N (default 4)
           --paced N (readings/s of the paced phase; default half the full-speed rate)
           --profile DIR (the API writes a V8 CPU profile there; its summary is printed)

  freshness  start the API, the devices projection and the energy processor as their own
           processes, post a steady load through POST /v1/readings and print p50/p99/max of the
           time from a tracer reading's 202 to its being in GET /v1/devices/:id, and to its Wh
           being in the device's quarter hours
           --rate N (readings/s, default 10000)  --seconds N (default 30)  --clients N (default 8)
           --batch N (default 1000)  --devices N (default 5000)
           --warmup N (seconds of load at the start whose figures are printed apart, default 5:
           each device's first reading makes the energy processor load its timeline)
           --profile DIR (the API writes a V8 CPU profile there; its summary is printed)

  mqtt     simulated devices, each its own MQTT connection, publish readings at QoS 1 through
           the local stack's Mosquitto; the MQTT bridge (own process) puts them into Kafka and
           the energy processor (own process) into QuestDB; prints readings/s into Kafka and
           committed, the bridge's CPU per reading and its peak RSS
           --devices N (default 5000)  --readings N (default 600000)
           --per-message N (readings a message carries, default 1)
           --profile DIR (the bridge writes a V8 CPU profile there)
           --kafka-only (no energy processor: the MQTT path into Kafka alone)

  faults   start a stack of its own (temporary GS_HOME, free ports: the running stack is not
           touched) and two instances of every service, put a steady load on it (through the
           API and straight to Kafka) and inject faults at random times: kill -9 of every
           service, outages of Kafka, QuestDB and FerretDB (stopped, and frozen with SIGSTOP),
           instances added and removed, poison of every class; then check that every reading
           answered 202 is in QuestDB once, energy equals a recomputation, projections equal a
           rebuild, the DLQ holds each poison message once per group and nothing else, and no
           service went over its memory bound. Ends with one line:
           faults: F injected, A readings accepted, L lost, D duplicated, E energy mismatches,
           P projection mismatches, S API 5xx other than 503
           --minutes N (of load, default 10)  --short (one of each fault, about 3 minutes: CI)
           --rate N (readings/s offered, default 5000; 500 with --short)
           --kafka-share F (default 0.1)  --devices N (default 1000; 200 with --short)
           --instances N (of each service, default 2)
           --outage-seconds N (default 30; 6 with --short)  --clients N (default 8)
           --batch N (default 500)
           --kafka-brokers N (Kafka nodes of its stack, default 1; with 3 the readings topic has
             3 replicas and min.insync.replicas 2, and single nodes are killed with -9 too)
           --broker-faults-only (with a cluster: only those kills, two a round)
           --json FILE (the figures as JSON)  --keep (keep the stack's data)

  clean    remove what earlier runs left (every bench-* topic, bench_* table, view and
           database), e.g. after a run was interrupted

Each run uses fresh topics, tables and a database (a random prefix) on the running stack, and
removes them when it ends; --keep leaves them for a look afterwards.`;

export async function runBench(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      readings: { type: 'string', default: '2000000' },
      events: { type: 'string', default: '1000000' },
      devices: { type: 'string', default: '5000' },
      workers: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '30' },
      clients: { type: 'string', default: '8' },
      batch: { type: 'string', default: '1000' },
      'query-clients': { type: 'string', default: '4' },
      paced: { type: 'string' },
      profile: { type: 'string' },
      keep: { type: 'boolean', default: false },
      minutes: { type: 'string', default: '10' },
      short: { type: 'boolean', default: false },
      'kafka-brokers': { type: 'string', default: '1' },
      'broker-faults-only': { type: 'boolean', default: false },
      rate: { type: 'string' },
      warmup: { type: 'string' },
      'kafka-share': { type: 'string', default: '0.1' },
      instances: { type: 'string', default: '2' },
      'outage-seconds': { type: 'string' },
      json: { type: 'string' },
      'per-message': { type: 'string', default: '1' },
      'kafka-only': { type: 'boolean', default: false },
    },
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const run = randomBytes(3).toString('hex');
  const config = loadConfigOrExit({
    ...process.env,
    GS_TOPIC_PREFIX: `bench-${run}.`,
    GS_QDB_TABLE_PREFIX: `bench_${run}_`,
    GS_MONGO_DB: `bench_${run}`,
  });
  if (positionals[0] === 'clean') {
    const dropped = await dropRunData(config, EVERY_RUN);
    log(
      `bench clean: dropped ${dropped.topics} topics, ${dropped.tables} tables and views, ${dropped.databases} databases`,
    );
    return;
  }
  if (positionals[0] === 'faults') {
    // Its own stack, ports and names: nothing of the running stack to clean up afterwards.
    const result = await benchFaults({
      minutes: Number(values.minutes),
      short: values.short,
      rate: Number(values.rate ?? (values.short ? '500' : '5000')),
      kafkaShare: Number(values['kafka-share']),
      devices: Number(argv.includes('--devices') ? values.devices : values.short ? '200' : '1000'),
      instances: Number(values.instances),
      outageSeconds: Number(values['outage-seconds'] ?? (values.short ? '6' : '30')),
      kafkaNodes: Number(values['kafka-brokers']),
      brokerFaultsOnly: values['broker-faults-only'],
      clients: Number(values.clients),
      batch: Number(argv.includes('--batch') ? values.batch : '500'),
      keep: values.keep,
      json: values.json === undefined ? undefined : resolve(values.json),
      log,
    }).catch((error: unknown) => {
      // On the table's output too, where the e2e test and a reader look first.
      log(
        `bench faults stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      throw error;
    });
    if (faultCounts(result).some(([, n]) => n > 0)) process.exitCode = 1;
    return;
  }
  if (!['energy', 'rebuild', 'api', 'mqtt', 'freshness'].includes(positionals[0] ?? '')) {
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = 64;
    return;
  }
  try {
    const mqttReadings = argv.includes('--readings') ? values.readings : '600000';
    await runOne(positionals[0] ?? '', config, { ...values, 'mqtt-readings': mqttReadings }, log);
  } finally {
    if (values.keep)
      log(
        `  kept: topics ${config.GS_TOPIC_PREFIX}*, tables ${config.GS_QDB_TABLE_PREFIX}*, database ${config.GS_MONGO_DB}`,
      );
    else await dropRunData(config, namesOf(config));
  }
}

async function runOne(
  name: string,
  config: Config,
  values: Record<string, string | boolean | undefined>,
  log: (line: string) => void,
): Promise<void> {
  switch (name) {
    case 'energy':
      await benchEnergy(config, {
        readings: Number(values.readings),
        devices: Number(values.devices),
        workers: Number(values.workers),
        log,
      });
      return;
    case 'rebuild':
      await benchRebuild(config, {
        events: Number(values.events),
        devices: Number(values.devices),
        log,
      });
      return;
    case 'mqtt':
      await benchMqtt(config, {
        devices: Number(values.devices),
        readings: Number(values['mqtt-readings']),
        perMessage: Number(values['per-message']),
        kafkaOnly: values['kafka-only'] === true,
        profileDir: typeof values.profile === 'string' ? resolve(values.profile) : undefined,
        log,
      });
      return;
    case 'freshness':
      await benchFreshness(config, {
        seconds: Number(values.seconds),
        warmupSeconds: Number(values.warmup ?? '5'),
        rate: Number(values.rate ?? '10000'),
        clients: Number(values.clients),
        batch: Number(values.batch),
        devices: Number(values.devices),
        profileDir: typeof values.profile === 'string' ? resolve(values.profile) : undefined,
        log,
      });
      return;
    case 'api':
      await benchApi(config, {
        seconds: Number(values.seconds),
        clients: Number(values.clients),
        batch: Number(values.batch),
        devices: Number(values.devices),
        queryClients: Number(values['query-clients']),
        pacedRate: values.paced === undefined ? undefined : Number(values.paced),
        profileDir: typeof values.profile === 'string' ? resolve(values.profile) : undefined,
        log,
      });
      return;
  }
}

if (import.meta.main) await runBench(process.argv.slice(2));
