import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENERGY_PROCESSOR_NODE_FLAGS } from '@gridstream/processor-energy';

/** The long-running services `gridstream up` starts, each as its own process. */
export const SERVICES: readonly {
  readonly name: string;
  readonly entry: string;
  readonly nodeFlags: readonly string[];
}[] = [
  {
    name: 'energy',
    entry: '@gridstream/processor-energy',
    nodeFlags: ENERGY_PROCESSOR_NODE_FLAGS,
  },
  { name: 'devices', entry: '@gridstream/projection-devices', nodeFlags: [] },
  { name: 'archive', entry: '@gridstream/processor-archive', nodeFlags: [] },
  { name: 'site-energy', entry: '@gridstream/projection-site-energy', nodeFlags: [] },
  { name: 'alerts', entry: '@gridstream/processor-alerts', nodeFlags: [] },
  { name: 'alerts-projection', entry: '@gridstream/projection-alerts', nodeFlags: [] },
  { name: 'commands', entry: '@gridstream/processor-commands', nodeFlags: [] },
  { name: 'commands-projection', entry: '@gridstream/projection-commands', nodeFlags: [] },
  { name: 'api', entry: '@gridstream/api', nodeFlags: [] },
];

export function mainFileOf(packageName: string): string {
  // Each service package keeps its process entry point beside its index.
  return fileURLToPath(new URL('./main.ts', import.meta.resolve(packageName)));
}

export function startService(
  name: string,
  packageName: string,
  log: (line: string) => void,
  nodeFlags: readonly string[] = [],
  /** Settings of this service alone (its health port), over the environment's. */
  env: Readonly<Record<string, string>> = {},
): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, mainFileOf(packageName)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
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
