import { v7 as uuidv7 } from 'uuid';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { EventPublisher } from '@gridstream/kafka';

export const FAULTS_TENANT = 'faults';
const DEVICES_PER_SITE = 6;
export const deviceIdOf = (n: number) => `faults-meter-${String(n).padStart(5, '0')}`;
export const siteIdOf = (n: number) =>
  `faults-site-${String(Math.floor(n / DEVICES_PER_SITE)).padStart(4, '0')}`;

export function registration(n: number): GridstreamEvent {
  return {
    id: uuidv7(),
    type: EventType.deviceRegistered,
    source: 'bench-faults',
    subject: deviceIdOf(n),
    time: new Date(Date.now() - 3_600_000).toISOString(),
    tenant: FAULTS_TENANT,
    data: {
      deviceId: deviceIdOf(n),
      siteId: siteIdOf(n),
      kind: 'meter',
      role: 'grid',
      name: `Meter ${n}`,
      timeZone: 'Europe/Berlin',
    },
  };
}

/**
 * Every reading answered 202 by the API (or acknowledged by Kafka when sent straight there), in
 * columns: what must be in QuestDB exactly once at the end.
 */
export class Ledger {
  readonly ids: string[] = [];
  readonly device: number[] = [];
  readonly timeMs: number[] = [];
  readonly powerW: number[] = [];
  /** NaN: a power-only reading. */
  readonly importWh: number[] = [];
  viaApi = 0;
  viaKafka = 0;
  /** Ids of the readings sent straight to Kafka (the rest came through the API). */
  readonly straight = new Set<string>();

  get size(): number {
    return this.ids.length;
  }

  add(id: string, r: Reading): void {
    this.ids.push(id);
    this.device.push(r.device);
    this.timeMs.push(r.timeMs);
    this.powerW.push(r.powerW);
    this.importWh.push(r.importWh ?? Number.NaN);
  }
}

export interface Reading {
  readonly device: number;
  readonly timeMs: number;
  readonly powerW: number;
  readonly importWh: number | undefined;
}

/**
 * Generates readings round the devices: each device's times strictly increase, its import
 * counter grows by the energy its power implies, and every third reading is power-only (the
 * counter rule of issue 12: power between two counter readings only shapes their delta).
 */
export class ReadingSource {
  readonly #devices: number;
  readonly #lastMs: number[];
  readonly #counterWh: number[];
  readonly #n: number[];
  #next = 0;

  constructor(devices: number) {
    this.#devices = devices;
    this.#lastMs = Array.from({ length: devices }, () => 0);
    this.#counterWh = Array.from({ length: devices }, (_, d) => 1_000_000 + d * 10);
    this.#n = Array.from({ length: devices }, () => 0);
  }

  next(): Reading {
    const device = this.#next;
    this.#next = (this.#next + 1) % this.#devices;
    const now = Date.now();
    const last = this.#lastMs[device] ?? 0;
    const timeMs = Math.max(now, last + 1);
    const n = (this.#n[device] ?? 0) + 1;
    this.#n[device] = n;
    const powerW = 200 + ((device * 37 + n * 13) % 1800);
    const dt = last === 0 ? 0 : timeMs - last;
    const counter = (this.#counterWh[device] ?? 0) + (powerW * dt) / 3_600_000;
    this.#counterWh[device] = counter;
    this.#lastMs[device] = timeMs;
    // Counter values to a thousandth of a Wh, as meters report them.
    const importWh = n % 3 === 0 ? undefined : Math.round(counter * 1000) / 1000;
    return { device, timeMs, powerW, importWh };
  }
}

export const readingJson = (r: Reading) => ({
  deviceId: deviceIdOf(r.device),
  time: new Date(r.timeMs).toISOString(),
  powerW: r.powerW,
  ...(r.importWh === undefined ? {} : { importWh: r.importWh }),
});

export function readingEvent(r: Reading): GridstreamEvent {
  return {
    id: uuidv7(),
    type: EventType.readingReported,
    source: 'bench-faults',
    subject: deviceIdOf(r.device),
    time: new Date(r.timeMs).toISOString(),
    tenant: FAULTS_TENANT,
    data: {
      deviceId: deviceIdOf(r.device),
      powerW: r.powerW,
      ...(r.importWh === undefined ? {} : { importWh: r.importWh }),
      quality: 'good',
    },
  };
}

export interface LoadOptions {
  readonly apiBases: () => readonly string[];
  readonly authorization: string;
  /** Readings/s in all; `kafkaShare` of them go straight to Kafka. */
  readonly rate: number;
  readonly kafkaShare: number;
  readonly batch: number;
  readonly clients: number;
  readonly publisher: EventPublisher;
  readonly ledger: Ledger;
  readonly source: ReadingSource;
  /** API answers by status ('no answer' when the connection failed or timed out). */
  readonly answers: Map<string, number>;
  readonly onAccepted: (atMs: number) => void;
}

export interface RunningLoad {
  stop(): Promise<void>;
  readonly startedMs: number;
}

/**
 * Paced load: `clients` API clients post batches round the API instances, so many readings a
 * second in all, and one loop publishes the Kafka share straight to the readings topic. A
 * client that falls behind its schedule sends at once (closed loop), so the rate reached is
 * what the system took.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  let stopped = false;
  const startedMs = Date.now();
  const apiRate = options.rate * (1 - options.kafkaShare);
  const kafkaRate = options.rate * options.kafkaShare;
  let batchNo = 0;
  const count = (status: string) => {
    options.answers.set(status, (options.answers.get(status) ?? 0) + 1);
  };
  const apiClient = async () => {
    while (!stopped) {
      const n = batchNo++;
      const dueMs = startedMs + ((n * options.batch) / apiRate) * 1000;
      if (dueMs > Date.now()) await sleep(dueMs - Date.now());
      if (stopped) return;
      const readings = Array.from({ length: options.batch }, () => options.source.next());
      const bases = options.apiBases();
      const base = bases[n % Math.max(1, bases.length)];
      if (base === undefined) {
        count('no answer');
        await sleep(200);
        continue;
      }
      try {
        const response = await fetch(`${base}/v1/readings`, {
          method: 'POST',
          headers: { authorization: options.authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ readings: readings.map(readingJson) }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        count(String(response.status));
        if (response.status === 202) {
          const { ids } = JSON.parse(text) as { ids: string[] };
          readings.forEach((r, i) => {
            const id = ids[i];
            if (id !== undefined) options.ledger.add(id, r);
          });
          options.ledger.viaApi += readings.length;
          options.onAccepted(Date.now());
        } else if (response.status >= 500) {
          // Told to come back later: as a producer would, after a pause.
          await sleep(250);
        }
      } catch {
        count('no answer');
        await sleep(250);
      }
    }
  };
  const kafkaBatch = Math.max(1, Math.round(options.batch / 5));
  const kafkaClient = async () => {
    let n = 0;
    while (!stopped && kafkaRate > 0) {
      const dueMs = startedMs + ((n * kafkaBatch) / kafkaRate) * 1000;
      n++;
      if (dueMs > Date.now()) await sleep(dueMs - Date.now());
      if (stopped) return;
      const readings = Array.from({ length: kafkaBatch }, () => options.source.next());
      const events = readings.map(readingEvent);
      try {
        await withTimeout(options.publisher.publish(events), 30_000);
        events.forEach((e, i) => {
          const r = readings[i];
          if (r !== undefined) options.ledger.add(e.id, r);
          options.ledger.straight.add(e.id);
        });
        options.ledger.viaKafka += events.length;
      } catch {
        await sleep(500);
      }
    }
  };
  const running = Promise.all([
    ...Array.from({ length: options.clients }, apiClient),
    kafkaClient(),
  ]);
  return {
    startedMs,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
