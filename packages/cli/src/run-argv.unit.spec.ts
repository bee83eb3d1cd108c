import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serviceEnv, serviceNamed } from './services.ts';

const RUN_ARGV = fileURLToPath(new URL('./run-argv.ts', import.meta.url));

/** The lines `./gridstream run <service>` hands to `exec env`. */
function runArgv(service: string, env: Record<string, string | undefined> = {}): string[] {
  const result = spawnSync(process.execPath, [RUN_ARGV, service], {
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: undefined, ...env },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trimEnd().split('\n');
}

describe('gridstream run: the process a service is started as', () => {
  it("starts the energy processor with glibc's mmap threshold of its own", () => {
    const argv = runArgv('energy');
    expect(argv.slice(0, 2)).toEqual(['MALLOC_MMAP_THRESHOLD_=131072', 'node']);
    expect(argv).toContain('--max-old-space-size=384');
    expect(argv.at(-1)).toMatch(/processors\/energy\/src\/main\.ts$/);
  });

  it('leaves a variable the environment sets to the environment', () => {
    expect(runArgv('energy', { MALLOC_MMAP_THRESHOLD_: '65536' })[0]).toBe('node');
  });

  it('gives a service without variables of its own none', () => {
    expect(runArgv('archive')[0]).toBe('node');
  });

  it('lets the caller of every other launcher override them too (serviceEnv)', () => {
    const energy = serviceNamed('energy');
    if (energy === undefined) throw new Error('no energy service');
    expect(serviceEnv(energy, { GS_LOG_LEVEL: 'warn' })).toEqual({
      MALLOC_MMAP_THRESHOLD_: '131072',
      GS_LOG_LEVEL: 'warn',
    });
    expect(serviceEnv(energy, { MALLOC_MMAP_THRESHOLD_: '0' }).MALLOC_MMAP_THRESHOLD_).toBe('0');
  });
});
