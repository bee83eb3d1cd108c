import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CONSUMER_REPLACED_MSG } from '@gridstream/kafka';
import { SERVICES, serviceArgv, serviceEnv, serviceNamed } from '../services.ts';

export type ExitCause = 'kill' | 'stop' | 'crash';

export interface Instance {
  readonly service: string;
  readonly index: number;
  child: ChildProcess;
  /** Set by the bench before it kills or stops the instance; anything else is a crash. */
  expected: ExitCause | undefined;
  running: boolean;
  /** Removed for good (scaled in): not restarted. */
  removed: boolean;
  readonly env: Readonly<Record<string, string>>;
}

export interface ServiceStats {
  peakRssMiB: number;
  kills: number;
  crashes: number;
  restarts: number;
  added: number;
  removed: number;
  /** Consumers an instance found stuck and replaced (IdleWatch), from their log lines. */
  replaced: number;
  /** The last lines a crashed instance wrote, for the report. */
  lastCrash: string | undefined;
}

/**
 * The bench's own supervisor of service instances: every instance is a child process; one that
 * exits (killed by the bench, or crashed) is started again after a short backoff, as systemd or
 * Kubernetes would, unless it was removed. Exits the bench did not cause count as crashes.
 */
export class Fleet {
  readonly instances: Instance[] = [];
  readonly stats = new Map<string, ServiceStats>();
  readonly #logDir: string;
  readonly #baseEnv: Readonly<Record<string, string>>;
  readonly #restartMs: number;
  readonly #logs = new Map<Instance, WriteStream>();
  readonly #tails = new Map<Instance, string[]>();
  #stopping = false;
  #nextIndex = new Map<string, number>();

  constructor(options: {
    logDir: string;
    baseEnv: Readonly<Record<string, string>>;
    restartMs: number;
  }) {
    this.#logDir = options.logDir;
    this.#baseEnv = options.baseEnv;
    this.#restartMs = options.restartMs;
    for (const { name } of SERVICES)
      this.stats.set(name, {
        peakRssMiB: 0,
        kills: 0,
        crashes: 0,
        restarts: 0,
        added: 0,
        removed: 0,
        replaced: 0,
        lastCrash: undefined,
      });
  }

  statsOf(service: string): ServiceStats {
    const s = this.stats.get(service);
    if (s === undefined) throw new Error(`unknown service ${service}`);
    return s;
  }

  async add(service: string, env: Readonly<Record<string, string>> = {}): Promise<Instance> {
    await mkdir(this.#logDir, { recursive: true });
    const index = this.#nextIndex.get(service) ?? 0;
    this.#nextIndex.set(service, index + 1);
    const instance: Instance = {
      service,
      index,
      env,
      child: undefined as unknown as ChildProcess,
      expected: undefined,
      running: false,
      removed: false,
    };
    this.#logs.set(
      instance,
      createWriteStream(join(this.#logDir, `${service}-${index}.log`), { flags: 'a' }),
    );
    this.#spawn(instance);
    this.instances.push(instance);
    return instance;
  }

  #spawn(instance: Instance): void {
    const spec = serviceNamed(instance.service);
    if (spec === undefined) throw new Error(`unknown service ${instance.service}`);
    const env = serviceEnv(spec, { ...this.#baseEnv, ...instance.env });
    // The process `gridstream run <service>` execs: node with the service's flags and heap limit.
    const child = spawn(process.execPath, serviceArgv(spec, env), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    instance.child = child;
    instance.running = true;
    instance.expected = undefined;
    const log = this.#logs.get(instance);
    const tail: string[] = [];
    this.#tails.set(instance, tail);
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        log?.write(chunk);
        const text = chunk.toString('utf8');
        tail.push(text);
        if (tail.length > 20) tail.shift();
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines)
          if (line.includes(CONSUMER_REPLACED_MSG)) this.statsOf(instance.service).replaced++;
      });
    }
    child.once('exit', (code, signal) => {
      instance.running = false;
      const stats = this.statsOf(instance.service);
      if (instance.expected === undefined && !this.#stopping) {
        stats.crashes++;
        stats.lastCrash = `exit ${String(code ?? signal)}: ${tail.join('').trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`;
        log?.write(`\n[bench] crashed: exit ${String(code ?? signal)}\n`);
      }
      if (this.#stopping || instance.removed || instance.expected === 'stop') return;
      setTimeout(() => {
        if (this.#stopping || instance.removed || instance.running) return;
        stats.restarts++;
        this.#spawn(instance);
      }, this.#restartMs).unref();
    });
  }

  running(service?: string): Instance[] {
    return this.instances.filter(
      (i) => i.running && !i.removed && (service === undefined || i.service === service),
    );
  }

  /** kill -9 of one running instance (and any process it started); it is started again after the backoff. */
  async kill(instance: Instance): Promise<void> {
    instance.expected = 'kill';
    this.statsOf(instance.service).kills++;
    const pid = instance.child.pid;
    for (const p of pid === undefined ? [] : await descendantsOf(pid)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    instance.child.kill('SIGKILL');
  }

  /** Scales in: SIGTERM, waits for the exit, never restarted. */
  async remove(instance: Instance): Promise<void> {
    instance.removed = true;
    instance.expected = 'stop';
    this.statsOf(instance.service).removed++;
    if (!instance.running) return;
    const exited = once(instance.child, 'exit');
    instance.child.kill('SIGTERM');
    const timer = setTimeout(() => instance.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  /** Samples each running instance's resident memory (its process tree); keeps the peak per service. */
  async sampleRss(): Promise<void> {
    for (const instance of this.running()) {
      const pid = instance.child.pid;
      if (pid === undefined) continue;
      const mib = await treeRssMiB(pid);
      const stats = this.statsOf(instance.service);
      if (mib > stats.peakRssMiB) stats.peakRssMiB = mib;
    }
  }

  async stopAll(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.instances
        .filter((i) => i.running)
        .map(async (i) => {
          i.expected = 'stop';
          const exited = once(i.child, 'exit');
          i.child.kill('SIGTERM');
          const timer = setTimeout(() => i.child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }),
    );
    for (const log of this.#logs.values()) log.end();
  }
}

async function rssKiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  try {
    for (const task of await readdir(`/proc/${pid}/task`)) {
      const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
      for (const c of text.trim().split(/\s+/)) if (c !== '') out.push(Number(c));
    }
  } catch {
    // gone
  }
  return out;
}

async function descendantsOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const child of await childrenOf(pid)) out.push(child, ...(await descendantsOf(child)));
  return out;
}

/** Resident memory of a process and its descendants (worker processes, if any). */
export async function treeRssMiB(pid: number): Promise<number> {
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() ?? 0;
    total += await rssKiB(p);
    queue.push(...(await childrenOf(p)));
  }
  return total / 1024;
}
