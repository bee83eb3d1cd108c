import type { ChildProcess } from 'node:child_process';
import { startService } from './services.ts';
import type { ServiceSpec } from './services.ts';

/** A crashed service waits this long before it is started again; it doubles while it keeps crashing. */
export const FIRST_RESTART_DELAY_MS = 1_000;
export const MAX_RESTART_DELAY_MS = 30_000;
/** A service that ran this long before it ended is restarted after the first delay again. */
export const STABLE_AFTER_MS = 60_000;
/** How long a stopping service may take before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * The wait before restarting a service that ended, from the wait before (0 for none yet) and how
 * long it ran: doubling from 1 s to 30 s while it keeps crashing, back to 1 s after a stable run;
 * with ±25 % jitter from `random`, so services that crashed together do not restart in step.
 */
export function restartDelayMs(previousMs: number, ranMs: number, random: number): number {
  const baseMs =
    previousMs === 0 || ranMs >= STABLE_AFTER_MS
      ? FIRST_RESTART_DELAY_MS
      : Math.max(FIRST_RESTART_DELAY_MS, Math.min(previousMs * 2, MAX_RESTART_DELAY_MS));
  return Math.round(baseMs * (0.75 + random / 2));
}

export interface SupervisedService extends ServiceSpec {
  /** Settings of this service alone, e.g. its GS_HEALTH_PORT. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs services as child processes and keeps them running, as systemd's Restart=always would:
 * a service that ends while it should run is logged and started again after restartDelayMs; the
 * others are never touched. `stop` ends them all (SIGTERM, then SIGKILL after 10 s).
 */
export class ServiceSupervisor {
  readonly #log: (line: string) => void;
  readonly #random: () => number;
  readonly #running = new Map<string, ChildProcess>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopping = false;
  /** Restarts per service so far. */
  readonly restarts = new Map<string, number>();

  constructor(log: (line: string) => void, random: () => number = Math.random) {
    this.#log = log;
    this.#random = random;
  }

  start(service: SupervisedService, previousDelayMs = 0): void {
    if (this.#stopping) return;
    const startedAt = Date.now();
    const child = startService(service, this.#log, service.env);
    this.#running.set(service.name, child);
    child.once('exit', (code, signal) => {
      if (this.#running.get(service.name) === child) this.#running.delete(service.name);
      if (this.#stopping) return;
      const delayMs = restartDelayMs(previousDelayMs, Date.now() - startedAt, this.#random());
      this.restarts.set(service.name, (this.restarts.get(service.name) ?? 0) + 1);
      this.#log(
        `gridstream: ${service.name} ended (${signal === null ? `exit code ${String(code)}` : signal}); starting it again in ${delayMs} ms, the other services go on`,
      );
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.start(service, delayMs);
      }, delayMs);
      this.#timers.add(timer);
    });
  }

  /** The process of a service now, if it runs. */
  process(name: string): ChildProcess | undefined {
    return this.#running.get(name);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const children = [...this.#running.values()];
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              resolve();
              return;
            }
            const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}
