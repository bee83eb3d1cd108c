import { join } from 'node:path';
import { readFile } from 'node:fs/promises';

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
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime + stime) ? (utime + stime) / USER_HZ : undefined;
  } catch {
    return undefined;
  }
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
