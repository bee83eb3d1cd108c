import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { busiestThreads, threadCpuSeconds } from './measure.ts';

describe('busiestThreads', () => {
  it('sums the threads of one name and lists the busiest first, per item', () => {
    const threads = new Map([
      ['1', { name: 'MainThread', seconds: 10.4 }],
      ['2', { name: 'V8Worker', seconds: 1.5 }],
      ['3', { name: 'V8Worker', seconds: 2.5 }],
      ['4', { name: 'libuv-worker', seconds: 0.01 }],
      ['5', { name: 'idle', seconds: 0 }],
    ]);
    expect(busiestThreads(threads, 1_000_000, 2)).toBe(
      'MainThread 10.4 s (10 µs/reading), V8Worker (2 threads) 4.0 s (4 µs/reading)',
    );
  });
});

describe('threadCpuSeconds', () => {
  it("reads this process's threads, a named worker thread under its name", async () => {
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true, name: 'w0 measure' });
    await new Promise((resolve) => worker.once('online', resolve));
    try {
      const names = [...(await threadCpuSeconds(process.pid)).values()].map((t) => t.name);
      expect(names).toContain('w0 measure');
      expect(names.length).toBeGreaterThan(1);
    } finally {
      await worker.terminate();
    }
  });

  it('is empty for a process that is not there', async () => {
    expect((await threadCpuSeconds(2 ** 22 + 1)).size).toBe(0);
  });
});
