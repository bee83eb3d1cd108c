import { setFlagsFromString } from 'node:v8';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { loadConfigOrExit } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { isRetriable } from '@gridstream/errors';
import { startTracing } from '@gridstream/telemetry';
import { startHealthServer } from './health-server.ts';
import type { HealthServer } from './health-server.ts';
import { processHeapFlags, workerHeapLimits } from './worker-heap.ts';
import type { WorkerHeapLimits } from './worker-heap.ts';

export { startHealthServer } from './health-server.ts';
export type { HealthServer } from './health-server.ts';
export { processHeapFlags, workerHeapLimits } from './worker-heap.ts';
export type { ProcessHeapFlags, WorkerHeapLimits } from './worker-heap.ts';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** How long to keep retrying a start that fails because a server is not up yet. */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * Starts a service the way every gridstream process starts: parse the config (exit 78 on a bad
 * one), start, and retry with exponential backoff and jitter while the failure is retriable (a
 * server still starting); stop on SIGINT/SIGTERM, letting in-flight batches finish.
 * A non-retriable failure (a bug, a bad setting) ends the process at once with its message.
 */
export async function runService(
  name: string,
  start: (config: Config) => Promise<Stoppable>,
  options: ServiceOptions = {},
): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const config = loadConfigOrExit();
  // Alive from the first moment, ready once started. Worker threads share their process's port:
  // the thread that started them serves it (runWorkers).
  let health: HealthServer | undefined;
  if (config.GS_HEALTH_PORT !== undefined && isMainThread) {
    try {
      health = await startHealthServer(name, config.GS_HEALTH_PORT, config.GS_HEALTH_HOST);
    } catch (error) {
      log(`gridstream: ${name} could not serve its health port: ${(error as Error).message}`);
      process.exit(1);
    }
  }
  // Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/tracing.md); before the start, so the
  // service's first batches are traced.
  const tracing = await startTracing(`gridstream-${name.toLowerCase().replaceAll(' ', '-')}`);
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  let delayMs = 250;
  let service: Stoppable | undefined;
  while (service === undefined) {
    try {
      service = await start(config);
    } catch (error) {
      if (!isRetriable(error) || Date.now() + delayMs > deadline) {
        log(`gridstream: ${name} could not start: ${(error as Error).message}`);
        process.exit(1);
      }
      log(
        `gridstream: ${name} waiting for a server (${(error as Error).message}); retrying in ${delayMs} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random() / 2)));
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
  log(`gridstream: ${name} running`);
  health?.setReady(true);
  const running = service;
  const stop = () => {
    health?.setReady(false);
    // The spans of the last batches leave before the process does.
    void running
      .stop()
      .finally(() => tracing.shutdown())
      .finally(() => process.exit(0));
  };
  // A worker thread gets no signals: the thread that started it asks it to stop (runWorkers).
  if (!isMainThread) parentPort?.once('message', stop);
  else {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
    stopWithSupervisor(name, config.GS_SUPERVISOR_PID, log);
  }
}

/** How often a supervised service looks whether its supervisor is still its parent. */
const SUPERVISOR_CHECK_MS = 1_000;

/**
 * Under a supervisor (GS_SUPERVISOR_PID), stops the process as SIGTERM does once the
 * supervisor is no longer its parent: killed with -9, it could not stop its children, which
 * would otherwise live on holding their ports (the next `gridstream up` could not start) and
 * consuming beside the next ones.
 */
function stopWithSupervisor(
  name: string,
  supervisorPid: number | undefined,
  log: (line: string) => void,
): void {
  if (supervisorPid === undefined) return;
  const timer = setInterval(() => {
    if (process.ppid === supervisorPid) return;
    clearInterval(timer);
    log(`gridstream: ${name}: its supervisor (pid ${supervisorPid}) is gone; stopping`);
    process.kill(process.pid, 'SIGTERM');
  }, SUPERVISOR_CHECK_MS);
  timer.unref();
}

/**
 * Runs `count` copies of a service in one process, each in a worker thread of its own that
 * loads `entry` (which calls runService), so a service bound to one core can use more. On
 * SIGINT/SIGTERM every copy stops its in-flight work; if one fails, the process exits 1, so
 * whatever supervises it restarts them all.
 */
export async function runWorkers(
  name: string,
  entry: URL,
  count: number,
  options: {
    readonly log?: (line: string) => void;
    /** Each worker's heap (workerShareOfHeap); without it each gets the process's whole flags. */
    readonly resourceLimits?: WorkerHeapLimits;
  } = {},
): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const config = loadConfigOrExit();
  const { resourceLimits } = options;
  if (resourceLimits !== undefined) {
    // V8's heap flags outrank an isolate's own limits (node 24: a worker given 100 MiB of old
    // generation in a process started with --max-old-space-size=512 still had 512). They are
    // read when an isolate is created, so clearing them now leaves this thread's heap as it is.
    setFlagsFromString('--max-old-space-size=0');
    setFlagsFromString('--max-semi-space-size=0');
    log(
      `gridstream: ${name}: ${count} workers, each with ${resourceLimits.maxOldGenerationSizeMb} MiB of old and ${resourceLimits.maxYoungGenerationSizeMb} MiB of young generation`,
    );
  }
  // Ready from the start: a copy that ends takes the whole process down (below), and with it the port.
  const health =
    config.GS_HEALTH_PORT === undefined
      ? undefined
      : await startHealthServer(name, config.GS_HEALTH_PORT, config.GS_HEALTH_HOST);
  health?.setReady(true);
  let stopping = false;
  const exits = Array.from({ length: count }, (_, index) => {
    // Named (the OS shows the first 15 characters): `bench energy` reports CPU per thread.
    const worker = new Worker(entry, {
      name: `w${index} ${name}`,
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => {
        stopping = true;
        worker.postMessage('stop');
      });
    return new Promise<void>((resolve) => {
      worker.once('error', (error: Error) => {
        log(`gridstream: ${name} worker ${index} failed: ${error.stack ?? error.message}`);
      });
      worker.once('exit', (code) => {
        if (code !== 0 || !stopping) {
          log(`gridstream: ${name} worker ${index} ended (exit code ${code}); stopping`);
          process.exit(1);
        }
        resolve();
      });
    });
  });
  stopWithSupervisor(name, config.GS_SUPERVISOR_PID, log);
  await Promise.all(exits);
  process.exit(0);
}

/**
 * A worker's share of the heap flags this process was started with (workerHeapLimits), or
 * undefined when it was given no old-generation limit (then neither is a worker).
 */
export function workerShareOfHeap(workers: number): WorkerHeapLimits | undefined {
  const flags = processHeapFlags(process.execArgv, process.env.NODE_OPTIONS);
  const { maxOldSpaceMiB } = flags;
  return maxOldSpaceMiB === undefined
    ? undefined
    : workerHeapLimits({ ...flags, maxOldSpaceMiB }, workers);
}

/**
 * Runs work one piece at a time, in the order given: a processor's Kafka batches and its timer
 * sweeps share state, so they take turns. A failed piece does not stop the ones after it.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once everything queued so far has ended. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
