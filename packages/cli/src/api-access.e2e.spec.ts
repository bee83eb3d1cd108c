import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPENAPI_JSON_URL, SCOPES, startApi } from '@gridstream/api';
import type { RunningApi, Scope } from '@gridstream/api';
import { encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { createEventPublisher, createKafka, kafkaSettings, topicNames } from '@gridstream/kafka';
import { startAlertsProcessor } from '@gridstream/processor-alerts';
import { startArchive } from '@gridstream/processor-archive';
import { startCostProcessor } from '@gridstream/processor-cost';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { startLiveProjection } from '@gridstream/projection';
import { alertsProjection } from '@gridstream/projection-alerts';
import { commandsProjection } from '@gridstream/projection-commands';
import { devicesProjection, sitesProjection } from '@gridstream/projection-devices';
import { siteEnergyProjection } from '@gridstream/projection-site-energy';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

/**
 * Every route of the OpenAPI document, driven from the document itself: without a key it is
 * refused (401), with a key lacking its scope it is refused (403), with a key of tenant B it
 * neither reads nor changes anything of tenant A's, and every answer has the shape the
 * document gives for its status. A route added without a fixture here fails the suite.
 */

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const A = 'tenant-a';
const B = 'tenant-b';

let api: RunningApi;
let document: OpenApiDocument;
let commandId = '';
let letterIdOfA = '';
const keyOf = {} as Record<'aAdmin' | 'bAdmin', string>;
let idempotencyKeys = 0;

interface Operation {
  readonly 'x-scope'?: Scope;
  readonly parameters?: readonly {
    name: string;
    in: string;
    required?: boolean;
    schema: Record<string, unknown>;
  }[];
  readonly responses: Record<
    string,
    { content?: { 'application/json'?: { schema: Record<string, unknown> } } }
  >;
}
interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
}

interface Fixture {
  /** The URL with tenant A's ids in it. */
  readonly url: () => string;
  readonly body?: () => unknown;
  readonly headers?: () => Record<string, string>;
  /** Whether an answer shows tenant A's data (default: it names tenant A). */
  readonly showsA?: (body: unknown) => boolean;
  /** A live stream never ends: only its refusals are checked here (sse.e2e.spec.ts has the rest). */
  readonly stream?: true;
}

/** Posted by every key the tests try: after the window the series are read in, so whose it is shows elsewhere. */
const readingsOfA = () => ({
  readings: [{ deviceId: 'meter-a', time: '2026-11-20T13:30:00Z', powerW: 5 }],
});

/** One entry per operation of the document, keyed `METHOD path` as the document spells it. */
const FIXTURES: Record<string, Fixture> = {
  'POST /v1/readings': { url: () => '/v1/readings', body: readingsOfA },
  'GET /v1/devices': { url: () => '/v1/devices' },
  'GET /v1/devices/{id}': { url: () => '/v1/devices/meter-a' },
  // the device is A's: B's key finds no such device (404); A's answer names it
  'GET /v1/devices/{id}/cost': {
    url: () => '/v1/devices/meter-a/cost?from=2026-11-01&to=2026-12-01',
    // B's key may have a device of that name (a reading it sent), but no day of A's site
    showsA: (body) =>
      (body as { buckets: { siteIds: string[] }[] }).buckets.some((bucket) =>
        bucket.siteIds.includes('site-a'),
      ),
  },
  'GET /v1/devices/{id}/readings': {
    url: () => '/v1/devices/meter-a/readings?from=2026-11-20T09:00:00Z&to=2026-11-20T12:00:00Z',
    showsA: (body) => (body as { readings: unknown[] }).readings.length > 0,
  },
  'GET /v1/devices/{id}/history': {
    url: () => '/v1/devices/meter-a/history',
    showsA: (body) => (body as { events: unknown[] }).events.length > 0,
  },
  'GET /v1/devices/{id}/state': { url: () => '/v1/devices/meter-a/state?at=2026-11-21T00:00:00Z' },
  'GET /v1/sites/{id}/energy/days/{date}': { url: () => '/v1/sites/site-a/energy/days/2026-11-20' },
  'GET /v1/alerts': { url: () => '/v1/alerts' },
  'POST /v1/devices/{id}/commands': {
    url: () => '/v1/devices/plug-a/commands',
    body: () => ({ action: 'switch_off' }),
    headers: () => ({ 'idempotency-key': `access-${++idempotencyKeys}` }),
  },
  'GET /v1/devices/{id}/commands': { url: () => '/v1/devices/plug-a/commands' },
  'GET /v1/commands/stats': {
    url: () => '/v1/commands/stats',
    showsA: (body) => (body as { commands: number }).commands > 0,
  },
  'GET /v1/commands/{id}': { url: () => `/v1/commands/${commandId}` },
  'GET /v1/devices/{id}/series': {
    url: () =>
      '/v1/devices/meter-a/series?from=2026-11-20T09:00:00Z&to=2026-11-20T12:00:00Z&step=15m&aggregate=max',
    showsA: (body) => (body as { points: unknown[] }).points.length > 0,
  },
  'GET /v1/devices/{id}/energy': {
    url: () =>
      '/v1/devices/meter-a/energy?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&bucket=1h&timeZone=Europe/Berlin',
    showsA: (body) => (body as { buckets: unknown[] }).buckets.length > 0,
  },
  'GET /v1/sites/{id}/energy': {
    url: () =>
      '/v1/sites/site-a/energy?from=2026-11-19T00:00:00Z&to=2026-11-22T00:00:00Z&bucket=1d&timeZone=Europe/Berlin',
    showsA: (body) => (body as { buckets: unknown[] }).buckets.length > 0,
  },
  'GET /v1/summary': {
    url: () => '/v1/summary',
    // B's own readings of a device id make B an unregistered device of its own, not an active one
    showsA: (body) => (body as { devices: { active: number } }).devices.active > 0,
  },
  'GET /v1/stream': { url: () => '/v1/stream?siteId=site-a', stream: true },
  'POST /v1/commands/{id}/cancel': {
    url: () => `/v1/commands/${commandId}/cancel`,
    body: () => ({ reason: 'access test' }),
  },
  // the registry: tenant B registering a site of its own is its own, not A's
  'POST /v1/sites': {
    url: () => '/v1/sites',
    body: () => ({ siteId: 'site-new', name: 'New', timeZone: 'Europe/Berlin' }),
  },
  'GET /v1/sites': {
    url: () => '/v1/sites',
    showsA: (body) => (body as { sites: unknown[] }).sites.length > 0,
  },
  'GET /v1/sites/{id}': {
    url: () => '/v1/sites/site-a',
    showsA: (body) => (body as { siteId?: string }).siteId === 'site-a',
  },
  'PATCH /v1/sites/{id}': { url: () => '/v1/sites/site-a', body: () => ({ name: 'Site A' }) },
  'POST /v1/sites/{id}/close': { url: () => '/v1/sites/site-a/close', body: () => ({}) },
  'POST /v1/sites/{id}/reopen': { url: () => '/v1/sites/site-a/reopen', body: () => ({}) },
  'POST /v1/sites/{id}/tariffs': { url: () => '/v1/sites/site-a/tariffs', body: () => tariffOfA },
  // the site is A's: B's key finds no such site (404); A's answer names it
  'GET /v1/sites/{id}/cost': {
    url: () => '/v1/sites/site-a/cost?resolution=day&from=2026-11-01&to=2026-12-01',
    showsA: (body) => (body as { siteId?: string }).siteId === 'site-a',
  },
  'GET /v1/sites/{id}/statements/{month}': {
    url: () => '/v1/sites/site-a/statements/2026-11',
    showsA: (body) => (body as { siteId?: string }).siteId === 'site-a',
  },
  'GET /v1/sites/{id}/tariffs': {
    url: () => '/v1/sites/site-a/tariffs',
    showsA: (body) => (body as { tariffs: unknown[] }).tariffs.length > 0,
  },
  'GET /v1/sites/{id}/history': {
    url: () => '/v1/sites/site-a/history',
    showsA: (body) => (body as { events: unknown[] }).events.length > 0,
  },
  'POST /v1/devices': { url: () => '/v1/devices', body: () => newDeviceOfA('new-a') },
  'POST /v1/devices/batch': {
    url: () => '/v1/devices/batch',
    body: () => ({ devices: [newDeviceOfA('batch-a')] }),
  },
  'PATCH /v1/devices/{id}': { url: () => '/v1/devices/spare-a', body: () => ({ name: 'Spare' }) },
  'POST /v1/devices/{id}/decommission': {
    url: () => '/v1/devices/spare-a/decommission',
    body: () => ({}),
  },
  'POST /v1/devices/{id}/restore': { url: () => '/v1/devices/spare-a/restore', body: () => ({}) },
  'GET /v1/admin/dead-letters': {
    url: () => '/v1/admin/dead-letters',
    showsA: (body) => (body as { letters: unknown[] }).letters.length > 0,
  },
  'GET /v1/admin/dead-letters/{id}': { url: () => `/v1/admin/dead-letters/${letterIdOfA}` },
  'POST /v1/devices/{id}/move': {
    url: () => '/v1/devices/spare-a/move',
    body: () => ({ toSiteId: 'site-a2' }),
  },
};

/** Site A's tariff: seeded, so tenant A's key publishing it again changes nothing (200). */
const tariffOfA = {
  id: 'tariff-a',
  effectiveFrom: '2026-01-01T00:00:00Z',
  currency: 'EUR',
  vatRate: '0.19',
  dailyFee: '0.45',
  importPrice: { kind: 'fixed', pricePerKWh: '0.30' },
  exportPrice: { kind: 'fixed', pricePerKWh: '0.08' },
};

/** A registration on tenant A's site (B has no such site: 404, or refused lines in a batch). */
function newDeviceOfA(deviceId: string) {
  return { deviceId, siteId: 'site-a', kind: 'smart_plug', role: 'consumer', name: deviceId };
}

/** Writes that make something in the caller's own tenant, or answer per line, not 404. */
const WRITES_OF_ONES_OWN = new Set([
  'POST /v1/readings',
  'POST /v1/sites',
  'POST /v1/devices/batch',
]);

/** Whether an answer of the route shows tenant A's data: by default, that it names tenant A. */
const showsA =
  (key: string) =>
  (body: unknown): boolean =>
    fixtureOf(key).showsA?.(body) ?? JSON.stringify(body).includes(A);

function operations(): { key: string; method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      operation,
    })),
  );
}

const protectedOperations = () => operations().filter((o) => o.operation['x-scope'] !== undefined);

function fixtureOf(key: string): Fixture {
  const fixture = FIXTURES[key];
  if (fixture === undefined) throw new Error(`no fixture for ${key}: add one to FIXTURES`);
  return fixture;
}

async function call(key: string, method: string, authorization: string | undefined) {
  const fixture = fixtureOf(key);
  const body = fixture.body?.();
  return api.app.inject({
    method: method as 'GET' | 'POST' | 'PATCH',
    url: fixture.url(),
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...fixture.headers?.(),
    },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

/** The answer's status is documented for the operation and its body has that status's shape. */
function expectDocumented(
  key: string,
  operation: Operation,
  response: { statusCode: number; body: string },
) {
  const documented = operation.responses[String(response.statusCode)];
  expect(
    documented,
    `${key} answered ${response.statusCode}, which it does not document`,
  ).toBeDefined();
  const schema = documented?.content?.['application/json']?.schema;
  if (schema === undefined) return;
  const validate = ajv.compile(schema);
  const body: unknown = JSON.parse(response.body);
  expect(
    validate(body),
    `${key} ${response.statusCode}: ${ajv.errorsText(validate.errors)}\n${response.body}`,
  ).toBe(true);
}

const registrations: GridstreamEvent[] = [
  ['meter-a', 'meter', 'grid'],
  ['plug-a', 'smart_plug', 'consumer'],
  ['spare-a', 'smart_plug', 'consumer'],
].map(([deviceId = '', kind, role]) => ({
  id: `reg-${deviceId}`,
  type: EventType.deviceRegistered,
  source: 'e2e',
  subject: deviceId,
  time: '2026-11-01T00:00:00Z',
  tenant: A,
  data: {
    deviceId,
    siteId: 'site-a',
    kind: kind as 'meter' | 'smart_plug',
    role: role as 'grid' | 'consumer',
    name: deviceId,
    timeZone: 'Europe/Berlin',
  },
}));

beforeAll(async () => {
  const services = await Promise.all([
    startEnergyProcessor(config),
    startCostProcessor(config),
    startArchive(config),
    startAlertsProcessor(config),
    startLiveProjection(config, devicesProjection, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, sitesProjection, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, siteEnergyProjection, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, alertsProjection, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, commandsProjection, { lagLogIntervalMs: 0 }),
  ]);
  for (const service of services) stopAfterAll(() => service.stop());
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  keyOf.aAdmin = await bearer(api, A);
  keyOf.bAdmin = await bearer(api, B);
  document = (await api.app.inject({ method: 'GET', url: OPENAPI_JSON_URL })).json();
  const site = await api.app.inject({
    method: 'POST',
    url: '/v1/sites',
    headers: { authorization: keyOf.aAdmin },
    payload: { siteId: 'site-a', name: 'Site A', timeZone: 'Europe/Berlin' },
  });
  expect(site.statusCode, site.body).toBe(201);
  const second = await api.app.inject({
    method: 'POST',
    url: '/v1/sites',
    headers: { authorization: keyOf.aAdmin },
    payload: { siteId: 'site-a2', name: 'Site A2', timeZone: 'Europe/Berlin' },
  });
  expect(second.statusCode, second.body).toBe(201);
  const tariff = await api.app.inject({
    method: 'POST',
    url: '/v1/sites/site-a/tariffs',
    headers: { authorization: keyOf.aAdmin },
    payload: tariffOfA,
  });
  expect(tariff.statusCode, tariff.body).toBe(201);

  // Tenant A: two devices, an hour of meter counters (energy, a site day), a meter reset (an
  // alert), and a command.
  const kafka = createKafka(kafkaSettings(config, 'e2e-access'));
  const publisher = await createEventPublisher(kafka, topicNames(config.GS_TOPIC_PREFIX));
  stopAfterAll(() => publisher.disconnect());
  await publisher.publish(registrations);
  await eventually('both devices of tenant A', async () => {
    const responses = await Promise.all(
      ['meter-a', 'plug-a'].map((id) =>
        api.app.inject({ url: `/v1/devices/${id}`, headers: { authorization: keyOf.aAdmin } }),
      ),
    );
    return responses.every((r) => r.statusCode === 200) ? true : undefined;
  });
  const readings = Array.from({ length: 13 }, (_, i) => ({
    deviceId: 'meter-a',
    time: new Date(Date.UTC(2026, 10, 20, 10, i * 5)).toISOString(),
    importWh: 1_000 + i * 20,
    powerW: 240,
  }));
  readings.push({ deviceId: 'meter-a', time: '2026-11-20T11:10:00.000Z', importWh: 3, powerW: 1 });
  const posted = await api.app.inject({
    method: 'POST',
    url: '/v1/readings',
    headers: { authorization: keyOf.aAdmin },
    payload: { readings },
  });
  expect(posted.statusCode).toBe(202);
  const command = await api.app.inject({
    method: 'POST',
    url: '/v1/devices/plug-a/commands',
    headers: { authorization: keyOf.aAdmin, 'idempotency-key': 'seed' },
    payload: { action: 'switch_off' },
  });
  expect(command.statusCode).toBe(202);
  commandId = command.json<{ commandId: string }>().commandId;
  // and a reading no consumer can use, sent straight to Kafka: a dead letter of A's
  const producer = kafka.producer();
  await producer.connect();
  stopAfterAll(() => producer.disconnect());
  const bad = encodeEvent({
    id: 'bad-a',
    type: EventType.readingReported,
    source: 'e2e',
    subject: 'meter-a',
    time: '2026-11-20T11:20:00Z',
    tenant: A,
    data: { deviceId: 'meter-a', powerW: 1, quality: 'good' },
  });
  await producer.send({
    topic: topicNames(config.GS_TOPIC_PREFIX).readings,
    messages: [{ ...bad, value: '{"deviceId":"meter-a","powerW":"x"}' }],
  });
  letterIdOfA = await eventually("tenant A's dead letter", async () => {
    const listed = await api.app.inject({
      url: '/v1/admin/dead-letters',
      headers: { authorization: keyOf.aAdmin },
    });
    return listed.json<{ letters: { id: string }[] }>().letters[0]?.id;
  });

  // Until every read of tenant A shows A's data, a refusal to B would prove nothing.
  for (const { key, method } of protectedOperations()) {
    if (method !== 'GET' || fixtureOf(key).stream === true) continue;
    await eventually(
      `tenant A's data in ${key}`,
      async () => {
        const response = await call(key, method, keyOf.aAdmin);
        return response.statusCode === 200 && showsA(key)(response.json()) ? true : undefined;
      },
      90_000,
    );
  }
}, 240_000);

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, has a fixture for every operation, and every /v1 route names its scope', () => {
    expect(document.openapi).toBe('3.1.0');
    const v1 = operations().filter((o) => o.path.startsWith('/v1/'));
    expect(v1.map((o) => o.key).sort()).toEqual(Object.keys(FIXTURES).sort());
    for (const { key, operation } of v1) {
      expect(SCOPES, key).toContain(operation['x-scope']);
    }
  });
});

describe('every route, as the OpenAPI document lists it', () => {
  it('refuses a request without a key, or with an unknown one, with 401 UNAUTHENTICATED', async () => {
    for (const { key, method, operation } of protectedOperations()) {
      for (const authorization of [undefined, 'Bearer gs_000000000000_' + 'x'.repeat(43)]) {
        const response = await call(key, method, authorization);
        expect(response.statusCode, key).toBe(401);
        expect(response.json(), key).toMatchObject({ code: 'UNAUTHENTICATED' });
        expectDocumented(key, operation, response);
      }
    }
  });

  it('refuses a key of the right tenant without the scope with 403 FORBIDDEN', async () => {
    for (const { key, method, operation } of protectedOperations()) {
      const needed = operation['x-scope'] as Scope;
      const others = SCOPES.filter((s) => s !== needed && s !== 'admin');
      const response = await call(key, method, await bearer(api, A, others));
      expect(response.statusCode, key).toBe(403);
      expect(response.json(), key).toMatchObject({ code: 'FORBIDDEN', reason: 'missing-scope' });
      expectDocumented(key, operation, response);
    }
  });

  it("shows tenant B's key nothing of tenant A's, and lets it change nothing of A's", async () => {
    for (const { key, method, operation } of protectedOperations()) {
      if (fixtureOf(key).stream === true) continue;
      const response = await call(key, method, keyOf.bAdmin);
      expectDocumented(key, operation, response);
      // An error may echo the id asked for; an answer with data holds none of A's.
      if (response.statusCode < 400) {
        expect(response.body, key).not.toContain(A);
        expect(showsA(key)(response.json()), `${key}: ${response.body}`).toBe(false);
      }
      // A write addressed at A's device or command is not found in B's tenant.
      if ((method === 'POST' || method === 'PATCH') && !WRITES_OF_ONES_OWN.has(key))
        expect(response.statusCode, `${key}: ${response.body}`).toBe(404);
    }
    // and A's command is untouched by B's attempt to cancel it
    const command = await api.app.inject({
      url: `/v1/commands/${commandId}`,
      headers: { authorization: keyOf.aAdmin },
    });
    expect(command.json()).not.toHaveProperty('cancellationRequestedAt');
  });

  it('binds an event written with a key to the key tenant, whatever device id it names', async () => {
    // when tenant B posts a reading for a device id that is also one of A's
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers: { authorization: keyOf.bAdmin },
      payload: { readings: [{ deviceId: 'meter-a', time: '2026-11-20T09:30:00Z', powerW: 777 }] },
    });
    expect(posted.statusCode).toBe(202);
    // then it is B's reading, and A's series of that device does not have it
    const url = '/v1/devices/meter-a/readings?from=2026-11-20T09:00:00Z&to=2026-11-20T10:00:00Z';
    await eventually("B's reading in B's series", async () => {
      const response = await api.app.inject({ url, headers: { authorization: keyOf.bAdmin } });
      const { readings } = response.json<{ readings: { powerW?: number }[] }>();
      return readings.some((r) => r.powerW === 777) ? true : undefined;
    });
    const ofA = await api.app.inject({ url, headers: { authorization: keyOf.aAdmin } });
    expect(ofA.json<{ readings: unknown[] }>().readings).toEqual([]);
    // and a command names the key that asked for it, when the request names no one
    const command = await eventually('the seeded command', async () => {
      const response = await api.app.inject({
        url: `/v1/commands/${commandId}`,
        headers: { authorization: keyOf.aAdmin },
      });
      return response.statusCode === 200 ? response.json<{ requestedBy?: string }>() : undefined;
    });
    expect(command.requestedBy).toBe(`key:${keyOf.aAdmin.slice('Bearer gs_'.length, 22)}`);
  });

  it('answers a key with exactly the scope (or admin) as documented', async () => {
    for (const { key, method, operation } of protectedOperations()) {
      if (fixtureOf(key).stream === true) continue;
      const needed = operation['x-scope'] as Scope;
      for (const authorization of [await bearer(api, A, [needed]), keyOf.aAdmin]) {
        const response = await call(key, method, authorization);
        // A second cancellation of the same command is a conflict, not a refusal of the key.
        const answered =
          response.statusCode < 400 || (method === 'POST' && response.statusCode === 409);
        expect(answered, `${key}: ${response.statusCode} ${response.body}`).toBe(true);
        expectDocumented(key, operation, response);
      }
    }
  });

  it('answers 400 VALIDATION naming the parameter for a value its documented schema refuses', async () => {
    for (const { key, method, operation } of protectedOperations()) {
      for (const parameter of operation.parameters ?? []) {
        const { schema } = parameter;
        const checked =
          typeof schema['pattern'] === 'string' ||
          Array.isArray(schema['enum']) ||
          schema['format'] === 'date-time' ||
          schema['type'] === 'integer';
        if (!checked || (parameter.in !== 'path' && parameter.in !== 'query')) continue;
        const fixture = fixtureOf(key);
        const url = new URL(fixture.url(), 'http://api');
        const bad = 'not valid!';
        if (parameter.in === 'query') url.searchParams.set(parameter.name, bad);
        else {
          const template = key.split(' ')[1] ?? '';
          const index = template.split('/').indexOf(`{${parameter.name}}`);
          const segments = url.pathname.split('/');
          segments[index] = encodeURIComponent(bad);
          url.pathname = segments.join('/');
        }
        const body = fixture.body?.();
        const response = await api.app.inject({
          method: method as 'GET' | 'POST' | 'PATCH',
          url: `${url.pathname}${url.search}`,
          headers: { authorization: keyOf.aAdmin, ...fixture.headers?.() },
          ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
        });
        const what = `${key} ${parameter.in} ${parameter.name}`;
        expect(response.statusCode, `${what}: ${response.body}`).toBe(400);
        expect(response.json(), what).toMatchObject({
          code: 'VALIDATION',
          issues: expect.arrayContaining([
            expect.objectContaining({
              in: parameter.in === 'path' ? 'params' : 'querystring',
              path: parameter.name,
            }),
          ]) as unknown,
        });
        expectDocumented(key, operation, response);
      }
    }
  });
});
