import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const GRIDSTREAM = fileURLToPath(new URL('../../../gridstream', import.meta.url));

const env = {
  ...process.env,
  GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
  GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
  GS_TOPIC_PARTITIONS: String(config.GS_TOPIC_PARTITIONS),
  GS_MONGO_URL: config.GS_MONGO_URL,
  GS_MONGO_DB: config.GS_MONGO_DB,
};

describe('./gridstream run <service>, on the real servers', () => {
  it('is the service itself: one node process with its heap limit, stopped by SIGTERM', async () => {
    // given the archive run as systemd would, with a memory bound of 320 MiB
    const child = spawn(GRIDSTREAM, ['run', 'archive'], {
      env: { ...env, GS_SERVICE_MEMORY_MIB: '320' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    const exited = once(child, 'exit');
    stopAfterAll(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await eventually(
      'the archive running',
      async () => log.includes('running') || undefined,
      60_000,
    );
    // then the PID the supervisor started is node running the service, with half the bound as
    // its old generation, and no process in between
    const pid = child.pid ?? 0;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    expect(argv).toContain('--max-old-space-size=160');
    expect(argv.some((a) => a.endsWith('processors/archive/src/main.ts'))).toBe(true);
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    expect(children.trim()).toBe('');
    // and SIGTERM stops it gracefully, with exit code 0
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it('names what it can run when the service is unknown, and exits 64', () => {
    const result = spawnSync(GRIDSTREAM, ['run', 'no-such-service'], { env, encoding: 'utf8' });
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/no service 'no-such-service'/);
    expect(result.stderr).toMatch(/energy \(768 MiB\)/);
  });
});
