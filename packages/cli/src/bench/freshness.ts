import type { Config } from '@gridstream/config';
import {
  createEventPublisher,
  createKafka,
  createTopicsIfMissing,
  groupLag,
  kafkaSettings,
  topicNames,
} from '@gridstream/kafka';
import { ENERGY_PROCESSOR_NODE_FLAGS } from '@gridstream/processor-energy';
import { buildGroupId, initialBuildId } from '@gridstream/projection';
import { devicesProjection } from '@gridstream/projection-devices';
import { createApiKey } from '../keys.ts';
import { deviceId, freePort, registration, startProcess, stopProcess } from './api.ts';
import { apiLines, readingsDueBy, summariseFreshness } from './freshness-stats.ts';
import type { FreshnessSummary } from './freshness-stats.ts';
import { cpuSeconds, localStackPid, peakRssMiB, pollUntil } from './measure.ts';
import { summariseCpuProfiles } from './cpu-profile.ts';

export interface FreshnessOptions {
  readonly seconds: number;
  /** Readings a second offered through POST /v1/readings, in all. */
  readonly rate: number;
  readonly clients: number;
  readonly batch: number;
  readonly devices: number;
  /** Samples of the load's first seconds, counted apart (each device's first reading is costlier). */
  readonly warmupSeconds: number;
  /** Where the API writes a V8 CPU profile of the whole run (--cpu-prof), summarised at the end. */
  readonly profileDir?: string | undefined;
  readonly log: (line: string) => void;
}

/** A tracer reading answered 202: its device, time and counter, and when the answer came. */
interface Sample {
  readonly device: string;
  readonly timeMs: number;
  /** Wh counted since the device's first reading of the run. */
  readonly countedWh: number;
  readonly answeredMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `bench freshness`: a steady load through POST /v1/readings, and for one tracer device per
 * client (one reading of it in each of that client's batches, its counter one Wh up each time)
 * the time from the 202 to the reading being visible in GET /v1/devices/:id (lastReading), and
 * to its Wh being in the device's quarter hours (GET /v1/devices/:id/energy?bucket=15m). Two
 * pollers, one a route, ask about every tracer with a sample waiting at once, and again 20 ms
 * after each round; their request rate and times are printed.
 */
export async function benchFreshness(config: Config, options: FreshnessOptions): Promise<void> {
  const { log } = options;
  const tracers = Array.from({ length: options.clients }, (_, c) => deviceId(options.devices + c));
  log(
    `bench freshness: ${options.rate.toLocaleString('en-US')} readings/s through the API for ${options.seconds} s (${options.clients} clients x batches of ${options.batch}), ${options.devices.toLocaleString('en-US')} devices and ${tracers.length} tracers`,
  );
  const kafka = createKafka(kafkaSettings(config, 'bench-freshness'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  const all = options.devices + tracers.length;
  for (let from = 0; from < all; from += 1000)
    await publisher.publish(
      Array.from({ length: Math.min(1000, all - from) }, (_, i) => registration(from + i)),
    );
  await publisher.disconnect();
  const { key } = await createApiKey(config, {
    tenant: 'bench',
    scopes: ['read', 'ingest'],
    name: 'bench freshness',
  });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = startProcess(
    '@gridstream/api',
    config,
    { GS_API_PORT: String(port), GS_API_RATE_LIMIT_PER_MINUTE: String(100_000_000) },
    options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`],
  );
  const devices = startProcess('@gridstream/projection-devices', config, {});
  const energy = startProcess(
    '@gridstream/processor-energy',
    config,
    {},
    ENERGY_PROCESSOR_NODE_FLAGS,
  );
  try {
    await pollUntil(async () => {
      try {
        return (await fetch(`${base}/readyz`)).ok;
      } catch {
        return false;
      }
    }, 60_000);
    const post = (readings: unknown[]) =>
      fetch(`${base}/v1/readings`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ readings }),
      });
    // Each tracer's first reading (its counter's start), visible before the load begins.
    const startMs = Date.now();
    const firstResponse = await post(
      tracers.map((deviceId) => ({
        deviceId,
        time: new Date(startMs).toISOString(),
        powerW: 100,
        importWh: 0,
      })),
    );
    if (firstResponse.status !== 202)
      throw new Error(
        `first tracer readings: ${firstResponse.status} ${await firstResponse.text()}`,
      );
    await pollUntil(async () => {
      const answers = await Promise.all(
        tracers.map((t) => fetch(`${base}/v1/devices/${t}`, { headers })),
      );
      return answers.every((a) => a.ok);
    }, 120_000);
    log('  devices registered, the tracers seen in the device view; load starts');

    const pendingView: Sample[] = [];
    const pendingEnergy: Sample[] = [];
    /** 202-to-visible times of the steady load, and of its first `warmupSeconds`. */
    const viewMs: number[] = [];
    const energyMs: number[] = [];
    const viewWarmupMs: number[] = [];
    const energyWarmupMs: number[] = [];
    let accepted = 0;
    let refused = 0;
    let polls = 0;
    let stopped = false;
    // CPU of the document store and of the devices projection through the load.
    const mongoPid = await localStackPid(config.GS_HOME, 'mongo');
    const cpuNow = async () => ({
      mongo: mongoPid === undefined ? undefined : await cpuSeconds(mongoPid),
      projection: devices.pid === undefined ? undefined : await cpuSeconds(devices.pid),
    });
    const cpuAtStart = await cpuNow();
    const loadStartMs = Date.now();
    const loadEndMs = loadStartMs + options.seconds * 1000;
    const warmupEndMs = loadStartMs + options.warmupSeconds * 1000;
    let nextDevice = 0;
    const client = async (c: number) => {
      const tracer = tracers[c] ?? tracers[0] ?? '';
      let sent = 0;
      let counted = 0;
      while (Date.now() < loadEndMs) {
        const due = readingsDueBy(Date.now() - loadStartMs, options.rate, options.clients);
        if (sent >= due) {
          await sleep(5);
          continue;
        }
        const now = Date.now();
        const time = new Date(now).toISOString();
        counted += 1;
        const readings: unknown[] = [{ deviceId: tracer, time, powerW: 100, importWh: counted }];
        for (let i = 1; i < options.batch; i++) {
          const n = nextDevice++ % options.devices;
          readings.push({
            deviceId: deviceId(n),
            time,
            powerW: 500 + (n % 1000),
            importWh: now / 1000,
          });
        }
        try {
          const response = await post(readings);
          await response.arrayBuffer();
          if (response.status === 202) {
            accepted += readings.length;
            const sample = {
              device: tracer,
              timeMs: now,
              countedWh: counted,
              answeredMs: Date.now(),
            };
            pendingView.push(sample);
            pendingEnergy.push(sample);
          } else refused += readings.length;
        } catch {
          refused += readings.length;
        }
        sent += readings.length;
      }
    };
    /** Asks for every tracer with a sample waiting, then settles the samples now visible. */
    const poller = async (
      pending: Sample[],
      done: number[],
      warmup: number[],
      requestMs: number[],
      visible: (device: string) => Promise<(s: Sample) => boolean>,
    ) => {
      while (!stopped || pending.length > 0) {
        // Every tracer with a sample waiting at once: asked one after another, a sample would
        // also wait for the requests about the others (the round, up to a second under load).
        const waiting = [...new Set(pending.map((s) => s.device))];
        polls += waiting.length;
        await Promise.all(
          waiting.map(async (device) => {
            const askedMs = Date.now();
            let seen: (s: Sample) => boolean;
            try {
              seen = await visible(device);
            } catch {
              return;
            }
            // (the answer's time: the reading was visible at some instant before it)
            const now = Date.now();
            requestMs.push(now - askedMs);
            for (let i = pending.length - 1; i >= 0; i--) {
              const s = pending[i];
              if (s !== undefined && s.device === device && seen(s)) {
                (s.answeredMs < warmupEndMs ? warmup : done).push(now - s.answeredMs);
                pending.splice(i, 1);
              }
            }
          }),
        );
        if (stopped && Date.now() > loadEndMs + 30_000) break;
        await sleep(20);
      }
    };
    const energyFrom = new Date(Math.floor(startMs / 900_000) * 900_000 - 900_000).toISOString();
    const viewRequestMs: number[] = [];
    const energyRequestMs: number[] = [];
    const pollers = Promise.all([
      poller(pendingView, viewMs, viewWarmupMs, viewRequestMs, async (device) => {
        const response = await fetch(`${base}/v1/devices/${device}`, { headers });
        const body = (await response.json()) as { lastReading?: { time: string } };
        const lastMs = Date.parse(body.lastReading?.time ?? '');
        return (s) => s.timeMs <= lastMs;
      }),
      poller(pendingEnergy, energyMs, energyWarmupMs, energyRequestMs, async (device) => {
        const response = await fetch(
          `${base}/v1/devices/${device}/energy?bucket=15m&from=${encodeURIComponent(energyFrom)}`,
          { headers },
        );
        const body = (await response.json()) as { buckets: { importWh: number }[] };
        const wh = body.buckets.reduce((sum, b) => sum + b.importWh, 0);
        return (s) => s.countedWh <= wh + 1e-6;
      }),
    ]);
    await Promise.all(Array.from({ length: options.clients }, (_, c) => client(c)));
    const loadSeconds = (Date.now() - loadStartMs) / 1000;
    const actualEndMs = Date.now();
    const cpuAtEnd = await cpuNow();
    const projectionGroup = buildGroupId(
      config.GS_TOPIC_PREFIX,
      devicesProjection.name,
      initialBuildId(devicesProjection.version),
    );
    const projectionTopics = devicesProjection.topics.map((role) => topics[role]);
    const projectionLag = async () =>
      (await groupLag(kafka, projectionGroup, projectionTopics)).total;
    const lagAtEnd = await projectionLag().catch(() => undefined);
    const apiMetrics = await fetch(`${base}/metrics`)
      .then((response) => response.text())
      .catch(() => '');
    stopped = true;
    await pollers;
    const line = (what: string, f: FreshnessSummary, target: number, unseen: number) => {
      log(
        `  ${what.padEnd(36)} p50 ${f.p50Ms.toFixed(0).padStart(6)} ms  p99 ${f.p99Ms.toFixed(0).padStart(6)} ms  max ${f.maxMs.toFixed(0).padStart(6)} ms  (${f.samples} samples${unseen > 0 ? `, ${unseen} not seen within 30 s` : ''}; target p99 < ${target} ms)`,
      );
    };
    log(
      `  load: ${Math.round(accepted / loadSeconds).toLocaleString('en-US')} readings/s answered 202 (${accepted.toLocaleString('en-US')} in ${loadSeconds.toFixed(0)} s; ${refused.toLocaleString('en-US')} refused or unanswered); the pollers asked ${Math.round(polls / loadSeconds)} times a second`,
    );
    line('202 -> GET /v1/devices/:id', summariseFreshness(viewMs), 500, pendingView.length);
    line(
      '202 -> its Wh in the quarter hours',
      summariseFreshness(energyMs),
      2000,
      pendingEnergy.length,
    );
    if (options.warmupSeconds > 0) {
      log(`  and of the load's first ${options.warmupSeconds} s, counted apart above:`);
      line('  202 -> GET /v1/devices/:id', summariseFreshness(viewWarmupMs), 500, 0);
      line('  202 -> its Wh in the quarter hours', summariseFreshness(energyWarmupMs), 2000, 0);
    }
    // Part of each figure above is the pollers' own round: a sample waits for the next request
    // about its tracer, and is settled when that request is answered.
    const cpu = (what: 'mongo' | 'projection') => {
      const start = cpuAtStart[what];
      const end = cpuAtEnd[what];
      if (start === undefined || end === undefined) return 'n/a';
      return `${(end - start).toFixed(1)} s (${Math.round(((end - start) / loadSeconds) * 100)} % of a core)`;
    };
    const projectionPeak = devices.pid === undefined ? undefined : await peakRssMiB(devices.pid);
    log(
      `  CPU during the load: FerretDB ${cpu('mongo')}, devices projection ${cpu('projection')} (peak RSS ${projectionPeak?.toFixed(0) ?? 'n/a'} MiB)`,
    );
    // The devices projection's committed offsets: behind by its batches in flight, and by what
    // it folded and has not written yet (docs/projections.md, "Writing behind").
    let caughtUpMs: number | undefined;
    await pollUntil(async () => {
      if ((await projectionLag().catch(() => undefined)) !== 0) return false;
      caughtUpMs = Date.now() - actualEndMs;
      return true;
    }, 120_000).catch(() => undefined);
    log(
      `  devices projection: ${lagAtEnd?.toLocaleString('en-US') ?? 'n/a'} events not committed as the load ended; ${caughtUpMs === undefined ? 'not caught up within 120 s after it' : `all committed ${(caughtUpMs / 1000).toFixed(1)} s after it`}`,
    );
    for (const [what, times] of [
      ['GET /v1/devices/:id itself', viewRequestMs],
      ['GET .../energy itself', energyRequestMs],
    ] as const) {
      const f = summariseFreshness(times);
      log(
        `  ${what.padEnd(36)} p50 ${f.p50Ms.toFixed(0).padStart(6)} ms  p99 ${f.p99Ms.toFixed(0).padStart(6)} ms  max ${f.maxMs.toFixed(0).padStart(6)} ms  (${f.samples} requests)`,
      );
    }
    for (const line of apiLines(apiMetrics)) log(`  ${line}`);
  } finally {
    await Promise.all([stopProcess(api), stopProcess(devices), stopProcess(energy)]);
  }
  if (options.profileDir !== undefined) {
    log(`  API CPU profile (whole run, self time) in ${options.profileDir}:`);
    for (const line of await summariseCpuProfiles(options.profileDir, api.pid)) log(`    ${line}`);
  }
}
