import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
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
import { connectMongo } from '@gridstream/mongo';
import { ENERGY_PROCESSOR_NODE_FLAGS } from '@gridstream/processor-energy';
import { createApiKey } from '../keys.ts';
import { summariseCpuProfiles } from './cpu-profile.ts';
import { cpuSeconds, formatRate, localStackPid, pollUntil } from './measure.ts';

export interface ApiBenchOptions {
  /** How long the load phase lasts. */
  readonly seconds: number;
  /** Concurrent ingest clients, each posting one batch at a time. */
  readonly clients: number;
  /** Readings per POST /v1/readings (the route takes at most 1000). */
  readonly batch: number;
  readonly devices: number;
  /** Concurrent query clients, each sending one GET at a time while the load runs. */
  readonly queryClients: number;
  /** Readings/s of the paced phase; by default half of what the full-speed phase reached. */
  readonly pacedRate?: number | undefined;
  /** Where the API writes a V8 CPU profile of the whole run (--cpu-prof), summarised at the end. */
  readonly profileDir?: string | undefined;
  readonly log: (line: string) => void;
}

const TENANT = 'bench';
const DEVICES_PER_SITE = 6;
export const deviceId = (n: number) => `bench-meter-${String(n).padStart(5, '0')}`;
const siteId = (n: number) =>
  `bench-site-${String(Math.floor(n / DEVICES_PER_SITE)).padStart(4, '0')}`;

export function registration(n: number): GridstreamEvent {
  return {
    id: `00000000-0000-7000-8003-${n.toString(16).padStart(12, '0')}`,
    type: EventType.deviceRegistered,
    source: 'bench',
    subject: deviceId(n),
    time: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    tenant: TENANT,
    data: {
      deviceId: deviceId(n),
      siteId: siteId(n),
      kind: 'meter',
      role: 'grid',
      name: `Meter ${n}`,
      timeZone: 'Europe/Berlin',
    },
  };
}

/** One request body: `batch` readings of consecutive devices, all measured at `timeMs`. */
function readingsBody(first: number, options: ApiBenchOptions, timeMs: number): string {
  const time = new Date(timeMs).toISOString();
  const readings = [];
  for (let i = 0; i < options.batch; i++) {
    const device = (first + i) % options.devices;
    readings.push({
      deviceId: deviceId(device),
      time,
      powerW: 500 + ((device * 37 + timeMs / 1000) % 1500),
      importWh: 1_000_000 + Math.floor(timeMs / 1000),
    });
  }
  return JSON.stringify({ readings });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

export function startProcess(
  packageName: string,
  config: Config,
  env: Record<string, string>,
  nodeFlags: readonly string[] = [],
): ChildProcess {
  const entry = fileURLToPath(new URL('./main.ts', import.meta.resolve(packageName)));
  return spawn(process.execPath, [...nodeFlags, entry], {
    env: { ...benchProcessEnv(config), ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** The environment of a process a bench starts: this one's, on the run's own names. */
export function benchProcessEnv(config: Config): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
    GS_QDB_TABLE_PREFIX: config.GS_QDB_TABLE_PREFIX,
    GS_MONGO_DB: config.GS_MONGO_DB,
    GS_LOG_LEVEL: 'warn',
  };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? Number.NaN;
}

/** The main dashboard queries, each for a device or site picked in turn. */
function queries(options: ApiBenchOptions, today: string): Record<string, (n: number) => string> {
  return {
    'GET /v1/devices/:id': (n) => `/v1/devices/${deviceId(n % options.devices)}`,
    'GET /v1/devices/:id/readings (last hour)': (n) =>
      `/v1/devices/${deviceId(n % options.devices)}/readings`,
    'GET /v1/sites/:id/energy/days/:date': (n) =>
      `/v1/sites/${siteId(n % options.devices)}/energy/days/${today}`,
    'GET /v1/alerts': () => '/v1/alerts?limit=100',
  };
}

interface QueryFigures {
  readonly route: string;
  readonly count: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Closed-loop query clients until `until()` is true; latency per route, sorted. */
async function runQueries(
  base: string,
  authorization: string,
  options: ApiBenchOptions,
  until: () => boolean,
): Promise<QueryFigures[]> {
  const routes = Object.entries(queries(options, new Date().toISOString().slice(0, 10)));
  const latencies = new Map<string, number[]>(routes.map(([route]) => [route, []]));
  const errors = new Map<string, number>(routes.map(([route]) => [route, 0]));
  let n = 0;
  const client = async () => {
    while (!until()) {
      const i = n++;
      const [route, pathOf] = routes[i % routes.length] ?? routes[0] ?? ['', () => ''];
      const started = performance.now();
      const response = await fetch(`${base}${pathOf(Math.floor(i / routes.length) * 7)}`, {
        headers: { authorization },
      });
      await response.arrayBuffer();
      latencies.get(route)?.push(performance.now() - started);
      // A site-day that has no closed quarter hour yet is a 404: the same lookup, still timed.
      if (!response.ok && response.status !== 404) errors.set(route, (errors.get(route) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: options.queryClients }, client));
  return routes.map(([route]) => {
    const sorted = (latencies.get(route) ?? []).sort((a, b) => a - b);
    return {
      route,
      count: sorted.length,
      errors: errors.get(route) ?? 0,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
    };
  });
}

/**
 * Ingest clients posting batches until `until()` is true; readings accepted (202). With a pace,
 * batch k is not sent before k * batch / pace seconds (a steady rate while the API keeps up).
 */
async function runIngest(
  base: string,
  authorization: string,
  options: ApiBenchOptions,
  until: () => boolean,
  paceReadingsPerSecond?: number,
): Promise<{ accepted: number; failedRequests: number; requestMs: number[] }> {
  let accepted = 0;
  let failedRequests = 0;
  let next = 0;
  const requestMs: number[] = [];
  const startedMs = Date.now();
  const client = async () => {
    while (!until()) {
      const first = next;
      next += options.batch;
      if (paceReadingsPerSecond !== undefined) {
        const dueMs = startedMs + (first / paceReadingsPerSecond) * 1000;
        if (dueMs > Date.now())
          await new Promise((resolve) => setTimeout(resolve, dueMs - Date.now()));
        if (until()) return;
      }
      // Each batch a little later than the previous one, so no two readings are the same.
      const body = readingsBody(first, options, Date.now() - 60_000 + (first % 60_000));
      const started = performance.now();
      const response = await fetch(`${base}/v1/readings`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      requestMs.push(performance.now() - started);
      if (response.status === 202) accepted += options.batch;
      else failedRequests++;
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  return { accepted, failedRequests, requestMs: requestMs.sort((a, b) => a - b) };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

function logQueries(log: (line: string) => void, figures: readonly QueryFigures[]): void {
  for (const f of figures) {
    const errors = f.errors === 0 ? '' : `, ${f.errors} errors`;
    log(
      `    ${f.route.padEnd(42)} p50 ${ms(f.p50Ms)}  p99 ${ms(f.p99Ms)}  (${f.count} requests${errors})`,
    );
  }
}

/**
 * Starts the API as its own process on fresh topics and a fresh database, registers devices and
 * seeds readings through the processors, then stops the processors and measures: the main
 * queries alone; readings/s through POST /v1/readings (each batch answered 202 only once every
 * in-sync replica has it) as fast as the clients go, alone and then with the same queries beside
 * it; and the queries beside a paced load at half the rate alone.
 */
export async function benchApi(config: Config, options: ApiBenchOptions): Promise<void> {
  const { log } = options;
  log(
    `bench api: ${options.clients} ingest clients x ${options.batch} readings per request for ${options.seconds} s, ${options.queryClients} query clients, ${options.devices.toLocaleString('en-US')} devices, ${config.GS_TOPIC_PARTITIONS} partitions, topic prefix ${config.GS_TOPIC_PREFIX}`,
  );
  const kafka = createKafka(kafkaSettings(config, 'bench-api'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  const registrations = Array.from({ length: options.devices }, (_, n) => registration(n));
  for (let from = 0; from < registrations.length; from += 1000)
    await publisher.publish(registrations.slice(from, from + 1000));
  await publisher.disconnect();

  const { key } = await createApiKey(config, {
    tenant: TENANT,
    scopes: ['read', 'ingest'],
    name: 'bench api',
  });
  const authorization = `Bearer ${key}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = startProcess(
    '@gridstream/api',
    config,
    {
      GS_API_PORT: String(port),
      // The bench is one key sending thousands of requests a minute.
      GS_API_RATE_LIMIT_PER_MINUTE: String(100_000_000),
    },
    options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`],
  );
  const devices = startProcess('@gridstream/projection-devices', config, {});
  const energy = startProcess(
    '@gridstream/processor-energy',
    config,
    {},
    ENERGY_PROCESSOR_NODE_FLAGS,
  );
  const mongo = await connectMongo(config);
  try {
    await pollUntil(async () => {
      try {
        return (await fetch(`${base}/readyz`)).ok;
      } catch {
        return false;
      }
    }, 60_000);
    // Seed: one reading per device through the API, processed into MongoDB and QuestDB, so the
    // queries below read real documents and rows.
    for (let first = 0; first < options.devices; first += options.batch) {
      const response = await fetch(`${base}/v1/readings`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: readingsBody(first, options, Date.now() - 120_000),
      });
      if (response.status !== 202)
        throw new Error(`seeding readings: ${response.status} ${await response.text()}`);
    }
    const lastDevice = `${base}/v1/devices/${deviceId(options.devices - 1)}`;
    const lastReadings = `${lastDevice}/readings`;
    await pollUntil(async () => {
      const [device, readings] = await Promise.all(
        [lastDevice, lastReadings].map((url) => fetch(url, { headers: { authorization } })),
      );
      if (device?.status !== 200 || readings?.status !== 200) return false;
      const body = (await readings.json()) as { readings: unknown[] };
      return body.readings.length > 0 && (await device.json()) !== null;
    }, 120_000);
    // The load measures the API's ingest path (HTTP -> Kafka, durable), not the processors.
    await Promise.all([stopProcess(devices), stopProcess(energy)]);
    log(
      `  seeded: ${options.devices.toLocaleString('en-US')} devices registered, one reading each processed`,
    );

    const idleUntil = Date.now() + 5_000;
    const idle = await runQueries(base, authorization, options, () => Date.now() > idleUntil);
    log('  queries alone (5 s):');
    logQueries(log, idle);

    const loadPhase = async (
      title: string,
      queriesBeside: boolean,
      paceReadingsPerSecond?: number,
    ) => {
      const cpuOf = async (pid: number | undefined) =>
        pid === undefined ? undefined : cpuSeconds(pid);
      const pids = [
        api.pid,
        await localStackPid(config.GS_HOME, 'kafka'),
        await localStackPid(config.GS_HOME, 'questdb'),
        await localStackPid(config.GS_HOME, 'mongo'),
        process.pid,
      ];
      const before = await Promise.all(pids.map(cpuOf));
      const started = Date.now();
      const endsAt = started + options.seconds * 1000;
      const over = () => Date.now() > endsAt;
      const [ingest, loaded] = await Promise.all([
        runIngest(base, authorization, options, over, paceReadingsPerSecond),
        queriesBeside ? runQueries(base, authorization, options, over) : [],
      ]);
      const elapsed = Date.now() - started;
      const after = await Promise.all(pids.map(cpuOf));
      const failed =
        ingest.failedRequests === 0 ? '' : `, ${ingest.failedRequests} requests failed`;
      log(`  ${title}`);
      log(
        `    ingest: ${ingest.accepted.toLocaleString('en-US')} readings accepted in ${(elapsed / 1000).toFixed(1)} s: ${formatRate(ingest.accepted, elapsed)} (POST p50 ${ms(percentile(ingest.requestMs, 50))}, p99 ${ms(percentile(ingest.requestMs, 99))}${failed})`,
      );
      logQueries(log, loaded);
      const cpu = (name: string, i: number) => {
        const [b, a] = [before[i], after[i]];
        return b === undefined || a === undefined
          ? `${name} n/a`
          : `${name} ${(a - b).toFixed(1)} s (${Math.round(((a - b) * 1000 * 100) / elapsed)} % of a core)`;
      };
      log(
        `    CPU: ${cpu('API', 0)}, ${cpu('Kafka', 1)}, ${cpu('QuestDB', 2)}, ${cpu('FerretDB', 3)}, ${cpu('bench clients', 4)}`,
      );
      return (ingest.accepted / elapsed) * 1000;
    };
    const fullRate = await loadPhase(`as fast as ${options.clients} clients go, alone:`, false);
    await loadPhase(`as fast as ${options.clients} clients go, with the queries beside it:`, true);
    const pace =
      options.pacedRate ?? Math.max(options.batch, Math.round(fullRate / 2 / 1000) * 1000);
    await loadPhase(
      `paced at ${pace.toLocaleString('en-US')} readings/s${options.pacedRate === undefined ? ' (half the rate alone)' : ''}, with the queries beside it:`,
      true,
      pace,
    );
    await mongo.db.dropDatabase();
  } finally {
    await Promise.all([stopProcess(api), stopProcess(devices), stopProcess(energy)]);
    await mongo.close();
  }
  if (options.profileDir !== undefined) {
    log(`  API CPU profile (whole run, self time) in ${options.profileDir}:`);
    for (const line of await summariseCpuProfiles(options.profileDir, api.pid)) log(`    ${line}`);
  }
}
