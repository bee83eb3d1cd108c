import { describe, expect, it } from 'vitest';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import { SERVICES, startService } from './services.ts';
import { ServiceSupervisor } from './supervisor.ts';

const config = isolatedConfig();
const stopAfterAll = teardown(config);

/** The services this file starts use the servers and names of this test's config. */
function useTestServers() {
  Object.assign(process.env, {
    GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
    GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
    GS_TOPIC_PARTITIONS: String(config.GS_TOPIC_PARTITIONS),
    GS_QDB_HTTP_URL: config.GS_QDB_HTTP_URL,
    GS_QDB_PG_HOST: config.GS_QDB_PG_HOST,
    GS_QDB_PG_PORT: String(config.GS_QDB_PG_PORT),
    GS_QDB_TABLE_PREFIX: config.GS_QDB_TABLE_PREFIX,
    GS_MONGO_URL: config.GS_MONGO_URL,
    GS_MONGO_DB: config.GS_MONGO_DB,
  });
}

describe('the supervisor of gridstream up, with real services on the real servers', () => {
  it('starts a service killed with -9 again, and leaves the others running', async () => {
    // given two services under the supervisor, on servers and names of this test's own
    useTestServers();
    const lines: string[] = [];
    const supervisor = new ServiceSupervisor(
      (line) => lines.push(line),
      () => 0.5,
    );
    stopAfterAll(() => supervisor.stop());
    const archive = SERVICES.find((s) => s.name === 'archive');
    const devices = SERVICES.find((s) => s.name === 'devices');
    if (archive === undefined || devices === undefined) throw new Error('services renamed');
    supervisor.start(archive);
    // (the devices projection with a health port of its own, as gridstream up gives each)
    const healthPort = 20_000 + Math.floor(Math.random() * 20_000);
    supervisor.start({ ...devices, env: { GS_HEALTH_PORT: String(healthPort) } });
    const running = (name: string, times: number) =>
      eventually(
        `${name} running ${times} time(s)`,
        async () =>
          lines.filter((l) => l.startsWith(`[${name}]`) && l.includes(' running')).length >= times
            ? true
            : undefined,
        60_000,
      );
    await running('archive', 1);
    await running('devices', 1);
    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', service: 'devices projection' });
    const killed = supervisor.process('archive');
    const other = supervisor.process('devices');
    // when the archive is killed with -9
    killed?.kill('SIGKILL');
    // then it is started again after a second, and the devices projection was never touched
    await running('archive', 2);
    expect(supervisor.process('archive')?.pid).not.toBe(killed?.pid);
    expect(lines).toContainEqual(
      expect.stringMatching(/archive ended \(SIGKILL\); starting it again in 1000 ms/),
    );
    expect(supervisor.process('devices')).toBe(other);
    expect(other?.exitCode).toBeNull();
    expect(supervisor.restarts).toEqual(new Map([['archive', 1]]));
  }, 120_000);

  it('a service whose supervisor is no longer its parent stops itself', async () => {
    // given the archive started with a supervisor pid that is not its parent's, as it is after
    // gridstream up was killed with -9 and the service was left to another parent
    useTestServers();
    const archive = SERVICES.find((s) => s.name === 'archive');
    if (archive === undefined) throw new Error('services renamed');
    const lines: string[] = [];
    const child = startService(archive, (line) => lines.push(line), {
      GS_SUPERVISOR_PID: String(process.pid + 1_000_000),
    });
    stopAfterAll(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // then it says so and stops as on SIGTERM, exit code 0
    expect(await exited).toBe(0);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`its supervisor \\(pid ${process.pid + 1_000_000}\\) is gone; stopping`),
      ),
    );
  }, 60_000);
});
