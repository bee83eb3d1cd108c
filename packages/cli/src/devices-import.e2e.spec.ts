import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
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
import { importDevices, readRegistrations, registryCommand } from './registry-cli.ts';

// `gridstream devices import`: a fleet of 5,000 devices from a file, bad lines reported with
// their numbers and reasons, the rest registered through the registry's write side.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const tenant = 'fleet';
const GRIDSTREAM = fileURLToPath(new URL('../../../gridstream', import.meta.url));
const DEVICES = 5_000;
let registry: RegistryWriteSide;
let dir = '';

/** The operator the CLI names: the OS account, whatever $USER says. */
const OPERATOR = `operator:${userInfo().username}`;

/**
 * 5,000 plugs on the farm, and in their middle (file lines 2,502 to 2,508) seven lines that must
 * be refused; the plugs after them are registered all the same.
 */
function fleetCsv(): string {
  const plug = (i: number) =>
    `plug-${i},farm,smart_plug,consumer,Plug ${i},${2_000 + (i % 7) * 100}`;
  const lines = ['deviceId,siteId,kind,role,name,ratedPowerW'];
  for (let i = 1; i <= DEVICES / 2; i++) lines.push(plug(i));
  lines.push('stray-1,nowhere,smart_plug,consumer,Stray,2000'); // unknown site
  lines.push('toaster-1,farm,toaster,consumer,Toaster,900'); // unknown kind
  lines.push('plug-7,farm,smart_plug,consumer,Another name,2000'); // id taken, other attributes
  lines.push('broken-1,farm,smart_plug'); // too few fields
  lines.push('plug-x,farm,smart_plug,consumer,Plug X,lots'); // not a number
  lines.push('plug-h,farm,smart_plug,consumer,Plug H,0x10'); // not a decimal number
  lines.push('"plug-q"x,farm,smart_plug,consumer,Plug Q,2000'); // a stray quote
  for (let i = DEVICES / 2 + 1; i <= DEVICES; i++) lines.push(plug(i));
  return `${lines.join('\n')}\n`;
}

const BAD_LINES = [
  [2_502, 'stray-1', 'site-not-found'],
  [2_503, 'toaster-1', 'invalid-registration'],
  [2_504, 'plug-7', 'device-id-taken'],
  [2_505, 'broken-1', 'unreadable-line'],
  [2_506, 'plug-x', 'invalid-registration'],
  [2_507, 'plug-h', 'invalid-registration'],
  [2_508, undefined, 'unreadable-line'],
];

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
    const report = await importDevices(registry, readRegistrations(fleetCsv(), 'csv'), {
      tenant,
      actor: OPERATOR,
    });
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`devices import: ${DEVICES} devices in ${seconds.toFixed(1)} s\n`);
    expect(report.registered).toBe(DEVICES);
    expect(report.unchanged).toBe(0);
    expect(report.refused.map((r) => [r.line, r.deviceId, r.reason])).toEqual(BAD_LINES);
    expect(report.refused.map((r) => r.message)).toEqual([
      'no site nowhere',
      expect.stringContaining('kind') as unknown,
      expect.stringContaining('plug-7') as unknown,
      '3 fields, the header names 6',
      'ratedPowerW: "lots" is not a number',
      'ratedPowerW: "0x10" is not a number',
      expect.stringContaining('Invalid Closing Quote') as unknown,
    ]);

    // the devices read model follows Kafka to all of them
    const mongo = await connectMongo(config);
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
      (m) => m.headers['ce_type'] === 'gridstream.device.registered.v2',
    );
    expect(registrations).toHaveLength(DEVICES);
    expect(
      new Set(registrations.map((m) => (JSON.parse(m.value) as { actor?: string }).actor)),
    ).toEqual(new Set([OPERATOR]));
  }, 240_000);

  it('changes nothing when the same file is imported again', async () => {
    const report = await importDevices(registry, readRegistrations(fleetCsv(), 'csv'), {
      tenant,
      actor: OPERATOR,
    });
    expect([report.registered, report.unchanged]).toEqual([0, DEVICES]);
    expect(report.refused.map((r) => [r.line, r.deviceId, r.reason])).toEqual(BAD_LINES);
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
    // the actor is the OS account running the command, not what $USER says
    expect(result.stderr).toContain(`as ${OPERATOR}`);
    const meter = (await readTopic(config, 'devices'))
      .map((m) => JSON.parse(m.value) as { deviceId?: string; actor?: string })
      .find((event) => event.deviceId === 'meter-1');
    expect(meter?.actor).toBe(OPERATOR);
  }, 180_000);

  it('refuses a file it cannot read the registrations of before connecting', async () => {
    const run = (file: string) => registryCommand(config, 'devices', ['import', file], () => {});
    const named = join(dir, 'fleet.txt');
    await writeFile(named, '');
    await expect(run(named)).rejects.toThrow(/name a \.csv, \.ndjson or \.jsonl file/);
    const header = join(dir, 'header.csv');
    await writeFile(header, 'deviceId,siteId,kynd,role,name\nplug-1,farm,smart_plug,consumer,P\n');
    await expect(run(header)).rejects.toThrow('unknown column kynd, no column kind');
  });

  it('adds a site, decommissions and restores a device, as the operator', async () => {
    const out: string[] = [];
    const run = (noun: 'devices' | 'sites', ...argv: string[]) =>
      registryCommand(config, noun, [...argv, '--tenant', tenant], (line) => out.push(line));
    expect(
      await run('sites', 'add', 'barn', '--name', 'Barn', '--time-zone', 'Europe/Vienna'),
    ).toBe(0);
    expect(await run('sites', 'add', 'moon', '--name', 'Moon', '--time-zone', 'Mars/Base')).toBe(1);
    expect(await run('devices', 'decommission', 'plug-1', '--reason', 'burnt out')).toBe(0);
    expect(await run('devices', 'restore', 'plug-2')).toBe(0); // in service: nothing to do
    expect(await run('devices', 'decommission', 'plug-0')).toBe(1);
    expect(out).toEqual([
      'sites add barn: changed',
      expect.stringMatching(/^sites add moon: unknown-time-zone: /) as unknown,
      'devices decommission plug-1: changed',
      'devices restore plug-2: unchanged',
      'devices decommission plug-0: device-not-found: no device plug-0',
    ]);
    const decommissioned = (await readTopic(config, 'devices'))
      .map((m) => JSON.parse(m.value) as { deviceId?: string; reason?: string; actor?: string })
      .filter((event) => event.deviceId === 'plug-1' && event.reason !== undefined);
    expect(decommissioned).toEqual([
      expect.objectContaining({ reason: 'burnt out', actor: OPERATOR }),
    ]);
    expect(await run('devices', 'restore', 'plug-1')).toBe(0);
    expect(out.at(-1)).toBe('devices restore plug-1: changed');
  }, 120_000);

  it('refuses a usage error with exit 64', () => {
    const result = spawnSync(GRIDSTREAM, ['devices', 'import', join(dir, 'missing.csv')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(64);
    expect(result.stderr).toContain('cannot read');
  });
});
