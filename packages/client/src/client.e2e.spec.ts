import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { decodeEvent } from '@gridstream/events';
import { createKafka, kafkaSettings, partitionOfKey, topicNames } from '@gridstream/kafka';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { startDevicesProjection } from '@gridstream/projection-devices';
import { bearer, isolatedConfig, uniqueSuffix } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';
import {
  Device,
  DeviceEnergy,
  DevicePage,
  DeviceReadings,
  ReadingsAccepted,
  Site,
  SiteDay,
  SiteEnergy,
  SitePage,
} from './responses.ts';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const config = isolatedConfig({ GS_API_HOST: '127.0.0.1' });
const partitions = config.GS_TOPIC_PARTITIONS;
const readingsTopic = topicNames(config.GS_TOPIC_PREFIX).readings;
const tenant = 'acme';
const httpDevice = 'client-http-meter';
const kafkaDevices = Array.from({ length: 8 }, (_, i) => `client-kafka-${i}`);
const stopAfterAll = teardown(config);

let api: RunningApi;
let apiUrl: string;
let apiKey: string;
/** A folder outside the workspace with the packed client installed by npm, as a user would. */
let consumerDir: string;
let tarball: string;

beforeAll(async () => {
  const [processor, projection] = await Promise.all([
    startEnergyProcessor(config, () => undefined),
    startDevicesProjection(config),
  ]);
  api = await startApi(config);
  stopAfterAll(() => api.close());
  stopAfterAll(() => processor.stop());
  stopAfterAll(() => projection.stop());
  apiUrl = api.url ?? '';
  apiKey = (await bearer(api, tenant, ['read', 'ingest'])).replace(/^Bearer /, '');

  // pack as a release would be (prepack builds dist/), and install the tarball with npm
  consumerDir = await mkdtemp(join(tmpdir(), 'gridstream-client-e2e-'));
  stopAfterAll(() => rm(consumerDir, { recursive: true, force: true }));
  const packDir = join(consumerDir, 'pack');
  await mkdir(packDir);
  await run('pnpm', ['pack', '--pack-destination', packDir], { cwd: packageDir });
  const [packed] = await readdir(packDir);
  tarball = join(packDir, packed ?? 'missing.tgz');
  const appDir = join(consumerDir, 'app');
  await mkdir(appDir);
  await writeFile(
    join(appDir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      tarball,
      'kafkajs@2.2.4',
      '@types/node@24',
    ],
    { cwd: appDir, timeout: 180_000 },
  );
  await writeFile(join(appDir, 'consumer.ts'), CONSUMER);
  await writeFile(join(appDir, 'misuse.ts'), MISUSE);
  await writeFile(join(appDir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  consumerDir = appDir;
}, 300_000);

const TSCONFIG = {
  compilerOptions: {
    target: 'es2024',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    erasableSyntaxOnly: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    // the client's .d.ts are checked too, not taken on trust
    skipLibCheck: false,
  },
  files: ['consumer.ts'],
};

/** A user's program: HTTP ingest and queries, and readings through the Kafka helper. */
const CONSUMER = String.raw`
import { Kafka, logLevel } from 'kafkajs';
import { GridstreamApiError, GridstreamClient } from '@gridstream/client';
import type { Device, DeviceReadings, ReadingInput } from '@gridstream/client';
import { createReadingProducer, partitionOf } from '@gridstream/client/kafka';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error('missing ' + name);
  return value;
}

const client = new GridstreamClient({ baseUrl: env('GS_URL'), apiKey: env('GS_KEY') });
const httpDevice = env('GS_HTTP_DEVICE');
const kafkaDevices = env('GS_KAFKA_DEVICES').split(',');
const t0 = env('GS_TIME');
const t1 = new Date(Date.parse(t0) + 60_000).toISOString();

async function failure(call: () => Promise<unknown>) {
  try {
    await call();
    return undefined;
  } catch (error) {
    if (!(error instanceof GridstreamApiError)) throw error;
    return { status: error.status, code: error.code, reason: error.reason, paths: error.issues.map((i) => i.path) };
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const batch: ReadingInput[] = [
  { deviceId: httpDevice, time: t0, powerW: 100, importWh: 1000 },
  { deviceId: httpDevice, time: t1, powerW: 200, importWh: 1003 },
];
const key = 'client-e2e-' + env('GS_RUN');
const first = await client.ingest(batch, { idempotencyKey: key });
const again = await client.ingest(batch, { idempotencyKey: key });
const reused = await failure(() =>
  client.ingest([{ deviceId: httpDevice, time: t0, powerW: 1 }], { idempotencyKey: key }),
);
const invalid = await failure(() => client.ingest([{ deviceId: 'bad id!', time: t0, powerW: 1 }]));
const missing = await failure(() => client.getDevice('no-such-device'));

const producer = await createReadingProducer({
  kafka: new Kafka({
    clientId: 'client-e2e',
    brokers: env('GS_BROKERS').split(','),
    // the stack's Kafka takes a login (docs/security.md)
    sasl: { mechanism: 'scram-sha-512', username: env('GS_KAFKA_USER'), password: env('GS_KAFKA_PASSWORD') },
    logLevel: logLevel.NOTHING,
  }),
  tenant: env('GS_TENANT'),
  topic: env('GS_TOPIC'),
  source: 'client-e2e',
});
const published = await producer.publish(
  kafkaDevices.map((deviceId, i) => ({ deviceId, time: t0, powerW: 10 + i, importWh: 500 + i })),
);
await producer.disconnect();

const withReading = (deviceId: string, time: string) =>
  until<Device>(deviceId + "'s last reading", async () => {
    const device = await client.getDevice(deviceId);
    return device.lastReading?.time === time ? device : undefined;
  });
const httpSeen = await withReading(httpDevice, t1);
const kafkaSeen = await withReading(kafkaDevices[0] ?? '', t0);
const stored = await until<DeviceReadings>('stored readings', async () => {
  const answer = await client.getDeviceReadings(httpDevice, {
    from: new Date(Date.parse(t0) - 60_000),
    to: new Date(Date.parse(t1) + 60_000),
  });
  return answer.readings.length === 2 ? answer : undefined;
});
const listed: string[] = [];
for await (const device of client.devices({ q: 'client-', limit: 3 })) listed.push(device.deviceId);
const energy = await client.getDeviceEnergy(httpDevice, { bucket: '15m', from: new Date(Date.parse(t0) - 3_600_000) });

console.log(
  JSON.stringify({
    first,
    again,
    reused,
    invalid,
    missing,
    published,
    partitions: Object.fromEntries(kafkaDevices.map((id) => [id, partitionOf(id, Number(env('GS_PARTITIONS')))])),
    httpSeen,
    kafkaSeen,
    stored,
    listed,
    energy: { deviceId: energy.deviceId, buckets: energy.buckets.length },
  }),
);
`;

/** Uses the client wrongly: the installed types must refuse each line. */
const MISUSE = String.raw`
import { GridstreamClient } from '@gridstream/client';
import { createReadingProducer } from '@gridstream/client/kafka';

const client = new GridstreamClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });
await client.ingest([{ deviceId: 'meter-1', time: '2026-12-05T12:00:00Z', powerW: 'high' }]);
const device = await client.getDevice('meter-1');
device.connectivity.toFixed(1);
await createReadingProducer({ tenant: 'acme' });
`;

interface ConsumerOutput {
  first: { accepted: number; ids: string[]; replayed: boolean; idempotencyKey: string };
  again: { accepted: number; ids: string[]; replayed: boolean };
  reused?: { status: number; code: string; reason?: string; paths: string[] };
  invalid?: { status: number; code: string; paths: string[] };
  missing?: { status: number; code: string };
  published: { ids: string[] };
  partitions: Record<string, number>;
  httpSeen: { deviceId: string; lastReading?: { time: string; powerW?: number } };
  kafkaSeen: { deviceId: string; tenant: string; lastReading?: { time: string; powerW?: number } };
  stored: { readings: { time: string; powerW?: number; importWh?: number }[] };
  listed: string[];
  energy: { deviceId: string; buckets: number };
}

describe('@gridstream/client, packed and installed outside the workspace', () => {
  it('packs a tarball whose manifest needs nothing of the workspace', async () => {
    const { stdout } = await run('tar', ['-xOzf', tarball, 'package/package.json']);
    const manifest = JSON.parse(stdout) as Record<string, unknown>;
    expect(manifest['private']).toBeUndefined();
    expect(manifest['dependencies']).toEqual({ zod: expect.any(String) as unknown });
    expect(manifest['peerDependencies']).toEqual({ kafkajs: expect.any(String) as unknown });
    const { stdout: files } = await run('tar', ['-tzf', tarball]);
    expect(files).toMatch(/package\/dist\/index\.d\.ts/);
    expect(files).toMatch(/package\/dist\/kafka\.js/);
    expect(files).toMatch(/package\/README\.md/);
    expect(files).not.toMatch(/package\/src\//);
    // the bundle imports only its dependencies and Node's own modules
    const { stdout: imports } = await run(
      'grep',
      ['-rhoE', 'from [\'"][^\'"]+[\'"]', 'node_modules/@gridstream/client/dist'],
      {
        cwd: consumerDir,
      },
    );
    const specifiers = new Set(
      imports
        .split('\n')
        .filter(Boolean)
        .map((line) => line.replace(/^from ['"]|['"]$/g, '')),
    );
    for (const specifier of specifiers) expect(specifier).toMatch(/^(zod|kafkajs|node:.*|\.\/.*)$/);
    // kafkajs only behind @gridstream/client/kafka: the main entry works without it installed
    const { stdout: withKafkajs } = await run(
      'grep',
      ['-rlE', 'from [\'"]kafkajs[\'"]', 'node_modules/@gridstream/client/dist'],
      { cwd: consumerDir },
    );
    expect(withKafkajs.split('\n').filter(Boolean).sort()).toEqual([
      'node_modules/@gridstream/client/dist/kafka.d.ts',
      'node_modules/@gridstream/client/dist/kafka.js',
    ]);
    // and CommonJS programs can require it (Node's require of ES modules, 22.12 and later)
    const { stdout: required } = await run(
      process.execPath,
      ['-e', "console.log(typeof require('@gridstream/client').GridstreamClient)"],
      { cwd: consumerDir },
    );
    expect(required.trim()).toBe('function');
  });

  it("type-checks a consumer's program against the installed .d.ts, and refuses misuse", async () => {
    await expect(
      run(process.execPath, [tsc, '-p', '.'], { cwd: consumerDir }),
    ).resolves.toBeDefined();
    const misuse = await run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--target',
        'es2024',
        '--types',
        'node',
        'misuse.ts',
      ],
      { cwd: consumerDir },
    ).then(
      () => '',
      (error: unknown) => (error as { stdout: string }).stdout,
    );
    // one error for each wrong line, none anywhere else
    const errors = misuse.split('\n').filter((line) => line.includes('error TS'));
    expect(errors.map((line) => /^misuse\.ts\((\d+),/.exec(line)?.[1])).toEqual(['6', '8', '9']);
  });

  it('ingests and queries over HTTP and publishes through Kafka, against the real API and Kafka', async () => {
    const run_ = uniqueSuffix();
    const time = new Date(Math.floor((Date.now() - 10 * 60_000) / 1000) * 1000).toISOString();
    const { stdout } = await run(process.execPath, ['consumer.ts'], {
      cwd: consumerDir,
      timeout: 120_000,
      env: {
        ...process.env,
        GS_URL: apiUrl,
        GS_KEY: apiKey,
        GS_BROKERS: config.GS_KAFKA_BROKERS.join(','),
        GS_KAFKA_USER: config.GS_KAFKA_SASL_USERNAME,
        GS_KAFKA_PASSWORD: config.GS_KAFKA_SASL_PASSWORD ?? '',
        GS_TOPIC: readingsTopic,
        GS_TENANT: tenant,
        GS_PARTITIONS: String(partitions),
        GS_HTTP_DEVICE: httpDevice,
        GS_KAFKA_DEVICES: kafkaDevices.join(','),
        GS_TIME: time,
        GS_RUN: run_,
      },
    });
    const out = JSON.parse(stdout) as ConsumerOutput;

    // HTTP: accepted, then the same batch under the same key answered again, published once
    expect(out.first).toMatchObject({ accepted: 2, replayed: false });
    expect(out.again).toEqual({ ...out.first, replayed: true, attempts: 1 });
    expect(out.reused).toEqual({
      status: 422,
      code: 'REFUSED',
      reason: 'idempotency-key-reused',
      paths: ['idempotency-key'],
    });
    expect(out.invalid).toMatchObject({
      status: 400,
      code: 'VALIDATION',
      paths: ['readings.0.deviceId'],
    });
    expect(out.missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(out.httpSeen.lastReading).toMatchObject({ powerW: 200 });
    expect(out.stored.readings.map((r) => r.importWh)).toEqual([1000, 1003]);
    expect(out.energy).toMatchObject({ deviceId: httpDevice });

    // Kafka: the devices published through the helper are the tenant's, and listed
    expect(out.kafkaSeen).toMatchObject({ tenant, lastReading: { time, powerW: 10 } });
    expect(out.listed).toEqual([...kafkaDevices, httpDevice].sort());

    // the topic holds the HTTP batch once and each Kafka reading once, each on its device's
    // partition as gridstream's publisher puts it, and gridstream decodes every record
    const { records, total } = await readAll(readingsTopic, 2 + kafkaDevices.length);
    expect(total).toBe(2 + kafkaDevices.length);
    expect(records).toHaveLength(total);
    for (const record of records) {
      expect(record.partition).toBe(partitionOfKey(record.key, partitions));
      const decoded = decodeEvent({ ...record, timestamp: Date.now() });
      expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
      if (decoded.ok) expect(decoded.event.tenant).toBe(tenant);
    }
    const viaKafka = records.filter((r) => r.headers['ce_source'] === 'client-e2e');
    expect(viaKafka.map((r) => r.headers['ce_id']).sort()).toEqual([...out.published.ids].sort());
    for (const [deviceId, partition] of Object.entries(out.partitions))
      expect(partition).toBe(partitionOfKey(deviceId, partitions));
    // with 8 devices on 3 partitions the check above is not vacuous: more than one is used
    expect(new Set(viaKafka.map((r) => r.partition)).size).toBeGreaterThan(1);
  });

  it('states each answer as the OpenAPI document the API serves does', async () => {
    const response = await fetch(`${apiUrl}/docs/json`);
    const document = (await response.json()) as OpenApiDocument;
    const answers: [string, string, string, z.ZodType][] = [
      ['post', '/v1/readings', '202', ReadingsAccepted],
      ['get', '/v1/devices', '200', DevicePage],
      ['get', '/v1/devices/{id}', '200', Device],
      ['get', '/v1/devices/{id}/readings', '200', DeviceReadings],
      ['get', '/v1/devices/{id}/energy', '200', DeviceEnergy],
      ['get', '/v1/sites', '200', SitePage],
      ['get', '/v1/sites/{id}', '200', Site],
      ['get', '/v1/sites/{id}/energy', '200', SiteEnergy],
      ['get', '/v1/sites/{id}/energy/days/{date}', '200', SiteDay],
    ];
    for (const [method, path, status, schema] of answers) {
      const documented =
        document.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
      expect(documented, `${method} ${path} ${status}`).toBeDefined();
      expect(shape(z.toJSONSchema(schema, { io: 'output' })), `${method} ${path}`).toEqual(
        shape(documented),
      );
    }
  });
});

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }
    >
  >;
}

/** A JSON Schema without its words (descriptions, titles): what it admits, to compare. */
function shape(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(shape);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([name]) => !['description', 'title', '$schema', 'examples'].includes(name))
      .map(([name, value]) => [name, shape(value)]),
  );
}

interface TopicRecord {
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Every record of a topic with its partition, from the start, once `count` have come, and how
 * many records the topic holds in all (its end offsets less its start offsets).
 */
async function readAll(topic: string, count: number) {
  const kafka = createKafka(kafkaSettings(config, 'client-e2e-reader'));
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const consumer = kafka.consumer({ groupId: `${topic}.client-e2e-${uniqueSuffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records: TopicRecord[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({
          partition,
          key: message.key?.toString('utf8') ?? '',
          value: message.value?.toString('utf8') ?? '',
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
          ),
        });
        if (records.length >= count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return { records, total };
}
