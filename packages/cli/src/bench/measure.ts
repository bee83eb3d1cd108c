import { join } from 'node:path';
import { readFile, readdir } from 'node:fs/promises';

/** Peak resident set size of a process so far (VmHWM), in MiB; Linux only. */
export async function peakRssMiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

export function formatRate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;
}

export async function pollUntil(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`benchmark condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Linux's clock tick for /proc times (USER_HZ); 100 on every mainstream architecture. */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, in seconds; Linux only. */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    return statCpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** User + system time from a /proc stat line (a process's or a thread's), in seconds. */
function statCpuSeconds(stat: string): number | undefined {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime + stime) ? (utime + stime) / USER_HZ : undefined;
}

/** CPU seconds of each thread of a process, by thread id, with the thread's name. */
export type ThreadCpu = ReadonlyMap<string, { readonly name: string; readonly seconds: number }>;

/** CPU time (user + system) of each thread of a process so far, in seconds, by thread id. */
export async function threadCpuSeconds(pid: number): Promise<ThreadCpu> {
  const threads = new Map<string, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const seconds = statCpuSeconds(stat);
      if (seconds !== undefined) threads.set(tid, { name, seconds });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}

/**
 * The threads that used the most CPU, as `name s (µs/item)`, those of one name (V8's helper
 * threads) summed: which thread bounds a rate, when one of them is near its whole core.
 */
export function busiestThreads(threads: ThreadCpu, items: number, count = 3): string {
  const byName = new Map<string, { seconds: number; threads: number }>();
  for (const { name, seconds } of threads.values()) {
    const sum = byName.get(name) ?? { seconds: 0, threads: 0 };
    sum.seconds += seconds;
    sum.threads += 1;
    byName.set(name, sum);
  }
  return [...byName]
    .sort(([, a], [, b]) => b.seconds - a.seconds)
    .slice(0, count)
    .map(
      ([name, { seconds, threads: n }]) =>
        `${name}${n > 1 ? ` (${n} threads)` : ''} ${seconds.toFixed(1)} s (${((seconds / items) * 1e6).toFixed(0)} µs/reading)`,
    )
    .join(', ');
}

/** The pid of a server the local stack started (deploy/local keeps them in GS_HOME/run). */
export async function localStackPid(
  /** The stack's home (GS_HOME): the pid files are in its run/ (deploy/local/stack.sh). */
  home: string,
  server: 'kafka' | 'questdb' | 'mongo' | 'mqtt',
): Promise<number | undefined> {
  const file = join(home, 'run', `${server}.pid`);
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
