import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** A worker's heap limit (MiB), in a process of the given flags, its heap flags cleared or not. */
function workerHeapLimitMiB(flags: readonly string[], clearFlags: boolean): number {
  const script = `
    const { Worker } = require('node:worker_threads');
    const v8 = require('node:v8');
    if (${clearFlags}) {
      v8.setFlagsFromString('--max-old-space-size=0');
      v8.setFlagsFromString('--max-semi-space-size=0');
    }
    const worker = new Worker(
      "require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)",
      { eval: true, resourceLimits: { maxOldGenerationSizeMb: 100, maxYoungGenerationSizeMb: 48 } },
    );
    worker.once('message', (limit) => { console.log(limit / 1048576); worker.terminate(); });
  `;
  return Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
}

// runWorkers clears the process's heap flags before it starts workers with limits of their own:
// this is the V8 behaviour that needs it, checked on the node that runs the tests.
describe("a worker thread's resourceLimits", () => {
  const flags = ['--max-old-space-size=512', '--max-semi-space-size=64'];

  it("are outranked by the process's heap flags", () => {
    expect(workerHeapLimitMiB(flags, false)).toBe(512 + 3 * 64);
  });

  it('hold once those flags are cleared', () => {
    expect(workerHeapLimitMiB(flags, true)).toBe(100 + 48);
  });
});
