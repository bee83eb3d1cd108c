import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader } from '@gridstream/projection';
import { devicesProjection, startRegistryProjections } from '@gridstream/projection-devices';
import { RunRegistryCommands, connectRegistry } from '@gridstream/registry';
import type { RegistryWriteSide } from '@gridstream/registry';
import { eventually, isolatedConfig } from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';
import { importDevices } from './registry-cli.ts';

// `gridstream devices import`: a fleet of 5,000 devices from a file, bad lines reported with
// their numbers and reasons, the rest registered through the registry's write side.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'fleet';
const GRIDSTREAM = fileURLToPath(new URL('../../../gridstream', import.meta.url));
const DEVICES = 5_000;
let registry: RegistryWriteSide;
let dir = '';

/** 5,000 plugs on the farm, then five lines that must be refused (file lines 5,002 to 5,006). */
function fleetCsv(): string {
  const lines = ['deviceId,siteId,kind,role,name,ratedPowerW'];
  for (let i = 1; i <= DEVICES; i++)
    lines.push(`plug-${i},farm,smart_plug,consumer,Plug ${i},${2_000 + (i % 7) * 100}`);
  lines.push('stray-1,nowhere,smart_plug,consumer,Stray,2000'); // unknown site
  lines.push('toaster-1,farm,toaster,consumer,Toaster,900'); // unknown kind
  lines.push('plug-7,farm,smart_plug,consumer,Another name,2000'); // id taken, other attributes
  lines.push('broken-1,farm,smart_plug'); // too few fields
  lines.push('plug-x,farm,smart_plug,consumer,Plug X,lots'); // not a number
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  const projections = await startRegistryProjections(config, { lagLogIntervalMs: 0 });
  stopAfterAll(() => projections.stop());
  registry = await connectRegistry(config);
  stopAfterAll(() => registry.close());
  const { outcomes } = await registry.commandBus.execute(
    new RunRegistryCommands(tenant, 'operator:test', [
      { type: 'register-site', siteId: 'farm', name: 'Farm', timeZone: 'Europe/Vienna' },
    ]),
  );
  expect(outcomes[0]?.outcome).toBe('changed');
  dir = await mkdtemp(join(tmpdir(), 'gridstream-import-'));
}, 60_000);

describe('gridstream devices import', () => {
  it('registers 5,000 devices and reports each refused line with its number and reason', async () => {
    const started = performance.now();
    const report = await importDevices(registry, {
      text: fleetCsv(),
      format: 'csv',
      tenant,
      actor: 'operator:test',
    });
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`devices import: ${DEVICES} devices in ${seconds.toFixed(1)} s\n`);
    expect(report.registered).toBe(DEVICES);
    expect(report.unchanged).toBe(0);
    expect(report.refused.map((r) => [r.line, r.deviceId, r.reason])).toEqual([
      [5_002, 'stray-1', 'site-not-found'],
      [5_003, 'toaster-1', 'invalid-registration'],
      [5_004, 'plug-7', 'device-id-taken'],
      [5_005, undefined, 'unreadable-line'],
      [5_006, 'plug-x', 'invalid-registration'],
    ]);
    expect(report.refused[4]?.message).toContain('ratedPowerW');

    // the devices read model follows Kafka to all of them
    const mongo = await connectMongo(config.GS_MONGO_URL, config.GS_MONGO_DB);
    stopAfterAll(() => mongo.close());
    const devices = new ProjectionReader(mongo.db, devicesProjection);
    const count = await eventually(
      'the 5,000 devices in the read model',
      async () => {
        const n = await (
          await devices.collection()
        ).countDocuments({
          'state.tenant': tenant,
          'state.status': 'active',
        });
        return n === DEVICES ? n : undefined;
      },
      120_000,
      500,
    );
    expect(count).toBe(DEVICES);
    // each registration names the operator who imported it, never a key
    const registrations = (await readTopic(config, 'devices')).filter(
      (m) => m.headers['ce_type'] === 'gridstream.device.registered.v1',
    );
    expect(registrations).toHaveLength(DEVICES);
    expect(
      new Set(registrations.map((m) => (JSON.parse(m.value) as { actor?: string }).actor)),
    ).toEqual(new Set(['operator:test']));
  }, 240_000);

  it('changes nothing when the same file is imported again', async () => {
    const report = await importDevices(registry, {
      text: fleetCsv(),
      format: 'csv',
      tenant,
      actor: 'operator:test',
    });
    expect([report.registered, report.unchanged, report.refused.length]).toEqual([0, DEVICES, 5]);
  }, 240_000);

  it('runs as a command: NDJSON, a report on stdout, exit 1 when a line was refused', async () => {
    const file = join(dir, 'more.ndjson');
    await writeFile(
      file,
      [
        JSON.stringify({
          deviceId: 'meter-1',
          siteId: 'farm',
          kind: 'meter',
          role: 'grid',
          name: 'Meter',
        }),
        '{"deviceId": "half',
        JSON.stringify({
          deviceId: 'meter-2',
          siteId: 'elsewhere',
          kind: 'meter',
          role: 'grid',
          name: 'M2',
        }),
      ].join('\n'),
    );
    const result = spawnSync(GRIDSTREAM, ['devices', 'import', file, '--tenant', tenant], {
      env: {
        ...process.env,
        USER: 'alice',
        GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
        GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
        GS_TOPIC_PARTITIONS: String(config.GS_TOPIC_PARTITIONS),
        GS_MONGO_URL: config.GS_MONGO_URL,
        GS_MONGO_DB: config.GS_MONGO_DB,
      },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout.split('\n').filter((l) => l !== '')).toEqual([
      expect.stringMatching(/^line 2: unreadable-line: /) as unknown,
      'line 3 (meter-2): site-not-found: no site elsewhere',
    ]);
    expect(result.stderr).toContain('1 registered, 0 unchanged, 2 refused');
    expect(result.stderr).toContain('as operator:alice');
  }, 180_000);

  it('refuses a usage error with exit 64', () => {
    const result = spawnSync(GRIDSTREAM, ['devices', 'import', join(dir, 'missing.csv')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(64);
    expect(result.stderr).toContain('cannot read');
  });
});
