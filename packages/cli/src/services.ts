import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENERGY_PROCESSOR_NODE_FLAGS } from '@gridstream/processor-energy/node-flags';

/** A long-running service: what `gridstream up`, `gridstream run` and the fault suite start. */
export interface ServiceSpec {
  readonly name: string;
  /** The package whose `main.ts` is the service's process. */
  readonly entry: string;
  /** Node flags of its own (the heap limit comes from `memoryMiB`). */
  readonly nodeFlags: readonly string[];
  /**
   * Environment variables its process starts with unless the caller's environment sets them:
   * settings read only when a process starts (glibc's malloc tunables). Every launcher applies
   * them (`serviceEnv`), and the Helm chart and docker-compose.yml carry the same.
   */
  readonly defaultEnv?: Readonly<Record<string, string>>;
  /**
   * The resident memory one instance is meant to stay within, in MiB: V8's old generation is
   * limited to half of it (the rest is the young generation, code, and buffers outside the heap),
   * so a leak ends the process (and its supervisor restarts it) rather than the machine. The fault
   * suite fails when an instance goes over it. `GS_SERVICE_MEMORY_MIB` overrides it for one run.
   */
  readonly memoryMiB: number;
  /**
   * Instances that may run at once, when fewer than any number: the MQTT bridge holds one MQTT
   * session (a client id), which a second instance would take over, back and forth.
   */
  readonly maxInstances?: number;
}

/** How many instances of a service to run when `wanted` are asked for. */
export function instancesOf(service: ServiceSpec, wanted: number): number {
  return Math.min(wanted, service.maxInstances ?? wanted);
}

/**
 * The long-running services `gridstream up` starts, each as its own process. Memory bounds are
 * the peak resident memory the fault suite measured at 5,000 readings/s with faults (energy
 * 430 MiB, API 500 MiB, devices 350 MiB, alerts 290 MiB, the others under 100 MiB: docs/benchmarks.md)
 * with room to spare. The energy processor's bound holds for the process as a whole with
 * GS_ENERGY_WORKERS > 1 too (its workers share its heap flags, runWorkers): `bench energy`, two
 * workers, 1,000,000 readings, peaked at 677-725 MiB in five runs with 768 (before, no share:
 * 822-924 MiB; readings/s the same in alternating pairs, CPU 21-25 µs/reading against 18-22), one
 * worker at 504. 400 MiB was not reached at full rate: shares of 640 MiB and less still peaked at
 * 585-695 MiB, and shares of 512 MiB and less or fetches under 4 MiB cost 25-150 % more CPU a
 * reading (docs/benchmarks.md, "Memory"). Since 2026-12-07 one worker (the default) peaks at
 * 332-352 MiB at full rate (a 32 MiB semi-space, fetches of two partitions' worth, ILP rows handed
 * over uncopied: docs/benchmarks.md, "One worker under 400 MiB"), and at 319-364 MiB with rows
 * written as bytes and fewer strings a reading ("Reading rows written as bytes"); fetching ahead
 * with one partition's worth a fetch, 329-346 MiB ("Fetching ahead"); with the old generation let
 * grow to three times the live heap and 8 MiB semi-spaces, 348-374 MiB at 73-79k readings/s
 * ("The old generation's growing factor").
 */
export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'energy',
    entry: '@gridstream/processor-energy',
    nodeFlags: ENERGY_PROCESSOR_NODE_FLAGS,
    memoryMiB: 768,
    // glibc maps buffers of 128 KiB and more on their own and unmaps them when freed, instead of
    // keeping freed Kafka fetches and ILP buffers in its arenas (its threshold otherwise rises
    // to the largest freed): peak RSS 655 and 659 MiB against 709 and 709, at the same rate
    // (bench energy, alternating pairs, docs/benchmarks.md).
    defaultEnv: { MALLOC_MMAP_THRESHOLD_: '131072' },
  },
  { name: 'devices', entry: '@gridstream/projection-devices', nodeFlags: [], memoryMiB: 768 },
  { name: 'archive', entry: '@gridstream/processor-archive', nodeFlags: [], memoryMiB: 384 },
  // Holds every site's quarter hours and the zones' series in memory (docs/cost.md, "The cost
  // processor"): its bound grows with the history it folds.
  { name: 'cost', entry: '@gridstream/processor-cost', nodeFlags: [], memoryMiB: 512 },
  {
    name: 'site-energy',
    entry: '@gridstream/projection-site-energy',
    nodeFlags: [],
    memoryMiB: 384,
  },
  { name: 'alerts', entry: '@gridstream/processor-alerts', nodeFlags: [], memoryMiB: 768 },
  {
    name: 'alerts-projection',
    entry: '@gridstream/projection-alerts',
    nodeFlags: [],
    memoryMiB: 384,
  },
  { name: 'commands', entry: '@gridstream/processor-commands', nodeFlags: [], memoryMiB: 384 },
  {
    name: 'commands-projection',
    entry: '@gridstream/projection-commands',
    nodeFlags: [],
    memoryMiB: 384,
  },
  { name: 'api', entry: '@gridstream/api', nodeFlags: [], memoryMiB: 1024 },
  {
    name: 'mqtt-bridge',
    entry: '@gridstream/mqtt',
    // A batch's events live until Kafka has them: with the default young generation they were
    // promoted and collected by full GCs, 19-35 % of the bridge's CPU (docs/benchmarks.md). The
    // old generation let grow to three times the live heap between full GCs, as the energy
    // processor's: 26.0-26.9 µs a reading against 35.8-39.4 (bench mqtt, alternating).
    nodeFlags: ['--max-semi-space-size=32', '--heap-growing-percent=200'],
    memoryMiB: 512,
    maxInstances: 1,
  },
];

export const RUN_USAGE = `usage: gridstream run <service>

Runs one service in the foreground, as systemd or Kubernetes would: one process (node, with the
service's flags and heap limit), its log on stderr, SIGTERM or SIGINT stops it gracefully, its
exit code is the service's. Configuration comes from the environment (README, "Configuration");
GS_SERVICE_MEMORY_MIB sets its memory bound (V8's old generation gets half). Any number of
instances may run in one consumer group.

services: ${SERVICES.map((service) => `${service.name} (${service.memoryMiB} MiB)`).join(', ')}`;

export function serviceNamed(name: string): ServiceSpec | undefined {
  return SERVICES.find((service) => service.name === name);
}

/** The memory bound of a service: its own, or GS_SERVICE_MEMORY_MIB when set to a positive integer. */
export function memoryBoundMiB(
  service: ServiceSpec,
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  const override = Number(env.GS_SERVICE_MEMORY_MIB);
  return Number.isInteger(override) && override > 0 ? override : service.memoryMiB;
}

/**
 * The environment of the node process that is one instance of the service: its `defaultEnv`
 * under `env` (which wins).
 */
export function serviceEnv<T extends Readonly<Record<string, string | undefined>>>(
  service: ServiceSpec,
  env: T,
): Record<string, string | undefined> & T {
  return { ...service.defaultEnv, ...env };
}

/** The arguments of the node process that is one instance of the service. */
export function serviceArgv(
  service: ServiceSpec,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const heapMiB = Math.max(64, Math.floor(memoryBoundMiB(service, env) / 2));
  return [...service.nodeFlags, `--max-old-space-size=${heapMiB}`, mainFileOf(service.entry)];
}

export function mainFileOf(packageName: string): string {
  // Each service package keeps its process entry point beside its index.
  return fileURLToPath(new URL('./main.ts', import.meta.resolve(packageName)));
}

export function startService(
  service: ServiceSpec,
  log: (line: string) => void,
  /** Settings of this service alone (its health port), over the environment's. */
  env: Readonly<Record<string, string>> = {},
): ChildProcess {
  // The service stops itself if this process is gone (killed with -9, it cannot stop it).
  const merged = serviceEnv(service, {
    ...process.env,
    GS_SUPERVISOR_PID: String(process.pid),
    ...env,
  });
  const child = spawn(process.execPath, serviceArgv(service, merged), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: merged,
  });
  const { name } = service;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      log(`[${name}] ${line}`);
    });
  }
  return child;
}

export async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      lastProblem = `${response.status} ${await response.text()}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${lastProblem}`);
}
