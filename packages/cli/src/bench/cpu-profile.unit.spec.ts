import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { percentile } from './api.ts';
import { ownerOf, summariseCpuProfiles } from './cpu-profile.ts';

describe('ownerOf', () => {
  it('names the npm package, the workspace package, Node or V8 a frame belongs to', () => {
    expect(
      ownerOf(
        'file:///r/node_modules/.pnpm/kafkajs@2.2.4_patch/node_modules/kafkajs/src/a.js',
        'f',
      ),
    ).toBe('kafkajs');
    expect(
      ownerOf('file:///r/node_modules/.pnpm/@fastify+rate-limit@11.2.0/node_modules/x.js', 'f'),
    ).toBe('@fastify/rate-limit');
    expect(ownerOf('file:///r/packages/api/src/routes/readings.ts', 'f')).toBe('packages/api');
    expect(ownerOf('node:internal/buffer', 'FastBuffer')).toBe('node (internal)');
    expect(ownerOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(ownerOf('', 'writeBuffer')).toBe('(native)');
  });
});

describe('summariseCpuProfiles', () => {
  it('gives self time per owner and counts a package once per sample, wherever it is on the stack', async () => {
    // given a profile: kafkajs calls into Node's Buffer (3 ms), fastify runs on its own (1 ms)
    const dir = await mkdtemp(join(tmpdir(), 'gs-prof-'));
    const kafkajs = 'file:///r/node_modules/.pnpm/kafkajs@2.2.4/node_modules/kafkajs/e.js';
    const fastify = 'file:///r/node_modules/.pnpm/fastify@5.6.1/node_modules/fastify/f.js';
    await writeFile(
      join(dir, 'CPU.1.42.0.001.cpuprofile'),
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 4] },
          { id: 2, callFrame: { functionName: 'encode', url: kafkajs }, children: [3] },
          { id: 3, callFrame: { functionName: 'FastBuffer', url: 'node:internal/buffer' } },
          { id: 4, callFrame: { functionName: 'route', url: fastify } },
        ],
        samples: [3, 3, 4, 3],
        timeDeltas: [1000, 1000, 1000, 1000],
      }),
    );
    // when it is summarised
    const lines = await summariseCpuProfiles(dir, 42);
    await rm(dir, { recursive: true });
    // then Node has the self time, and kafkajs the same time inclusively
    expect(lines).toContain(' 75.0 %  node (internal)');
    expect(lines.slice(lines.indexOf('inclusive (a package anywhere on the stack):'))).toEqual(
      expect.arrayContaining([' 75.0 %  kafkajs', ' 25.0 %  fastify']),
    );
  });
});

describe('percentile', () => {
  it('is the smallest value with at least p % of the values at or below it', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
