import { afterEach, describe, expect, it } from 'vitest';
import { GridstreamClient } from './client.ts';
import { GridstreamApiError, GridstreamNetworkError, GridstreamResponseError } from './errors.ts';
import { scriptedApi } from './scripted-api.fixture.ts';
import type { ScriptedAnswer } from './scripted-api.fixture.ts';

const KEY = 'gs_0123456789ab_secret';
const reading = { deviceId: 'meter-1', time: '2026-12-05T12:00:00Z', powerW: 120 };
const accepted = (n = 1) => ({
  status: 202,
  body: { accepted: n, ids: Array.from({ length: n }, (_, i) => `id-${i}`) },
});
const error = (
  status: number,
  code: string,
  headers: Record<string, string> = {},
  extra: object = {},
): ScriptedAnswer => ({ status, headers, body: { code, message: `${code} here`, ...extra } });
const device = {
  tenant: 'acme',
  deviceId: 'meter-1',
  status: 'active',
  connectivity: 'online',
  lastReading: { time: '2026-12-05T12:00:00.000Z', powerW: 120 },
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function serve(script: readonly ScriptedAnswer[]) {
  const api = await scriptedApi(script);
  close = api.close;
  // small backoff so a test of five attempts takes milliseconds, not seconds
  const client = new GridstreamClient({
    baseUrl: api.url,
    apiKey: KEY,
    retry: { maxAttempts: 4, initialBackoffMs: 10, maxBackoffMs: 40, maxRetryAfterMs: 5_000 },
  });
  return { api, client };
}

describe('GridstreamClient over HTTP', () => {
  it('sends a batch with the bearer key and an Idempotency-Key, and reads the 202', async () => {
    const { api, client } = await serve([
      { ...accepted(1), headers: { 'idempotent-replayed': 'false' } },
    ]);
    const result = await client.ingest([reading]);
    expect(result).toMatchObject({ accepted: 1, ids: ['id-0'], replayed: false, attempts: 1 });
    const [request] = api.received;
    expect(request).toMatchObject({ method: 'POST', url: '/v1/readings' });
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(result.idempotencyKey);
    expect(result.idempotencyKey).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(JSON.parse(request?.body ?? '')).toEqual({ readings: [reading] });
  });

  it('makes a new key per batch, and sends the one it is given', async () => {
    const { api, client } = await serve([accepted()]);
    const first = await client.ingest([reading]);
    const second = await client.ingest([reading]);
    const third = await client.ingest([reading], { idempotencyKey: 'line-3/batch-42' });
    expect(first.idempotencyKey).not.toBe(second.idempotencyKey);
    expect(third.idempotencyKey).toBe('line-3/batch-42');
    expect(api.received.map((r) => r.headers['idempotency-key'])).toEqual([
      first.idempotencyKey,
      second.idempotencyKey,
      'line-3/batch-42',
    ]);
  });

  it('retries a 503 after its retry-after in seconds, with the same key and body', async () => {
    const { api, client } = await serve([
      error(503, 'OVERLOADED', { 'retry-after': '1' }, { reason: 'overloaded' }),
      { ...accepted(), headers: { 'idempotent-replayed': 'true' } },
    ]);
    const result = await client.ingest([reading]);
    expect(result).toMatchObject({ accepted: 1, attempts: 2, replayed: true });
    const [first, second] = api.received;
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key']);
    expect(second?.body).toBe(first?.body);
    // waited the second it was told (and at most the 10 ms of jitter more, plus the round trip)
    const waitedMs = (second?.atMs ?? 0) - (first?.atMs ?? 0);
    expect(waitedMs).toBeGreaterThanOrEqual(990);
    expect(waitedMs).toBeLessThan(1_500);
  });

  it('retries a 429 after its retry-after given as an HTTP date', async () => {
    // a date two seconds on, to the second as HTTP dates are: between 1 and 2 s from now
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 2_000).toUTCString();
    const { api, client } = await serve([
      error(429, 'RATE_LIMITED', { 'retry-after': at }),
      { status: 200, body: device },
    ]);
    const answer = await client.getDevice('meter-1');
    expect(answer.lastReading).toEqual(device.lastReading);
    const [first, second] = api.received;
    expect(second?.atMs ?? 0).toBeGreaterThanOrEqual(Date.parse(at) - 20);
    expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeLessThan(2_500);
  });

  it('gives up after maxAttempts and throws the last answer as a typed error', async () => {
    const { api, client } = await serve([
      error(503, 'DEPENDENCY_UNAVAILABLE', { 'retry-after': '0' }),
    ]);
    const failure = await client.ingest([reading]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GridstreamApiError);
    expect(failure).toMatchObject({
      status: 503,
      code: 'DEPENDENCY_UNAVAILABLE',
      retriable: true,
      retryAfterMs: 0,
      attempts: 4,
    });
    expect(api.received).toHaveLength(4);
    expect(new Set(api.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('hands a retry-after longer than the policy waits to the caller at once', async () => {
    const { api, client } = await serve([error(429, 'RATE_LIMITED', { 'retry-after': '3600' })]);
    const failure = await client.listDevices().catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'RATE_LIMITED',
      retriable: true,
      retryAfterMs: 3_600_000,
      attempts: 1,
    });
    expect(api.received).toHaveLength(1);
  });

  it('does not retry a refusal, and carries its code, reason and issues', async () => {
    const issues = [{ in: 'body', path: 'readings.0.time', message: 'Invalid ISO datetime' }];
    const { api, client } = await serve([
      error(400, 'VALIDATION', {}, { reason: 'invalid-request', issues }),
    ]);
    const failure = await client.ingest([reading]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GridstreamApiError);
    expect(failure).toMatchObject({
      status: 400,
      code: 'VALIDATION',
      reason: 'invalid-request',
      issues,
      retriable: false,
      attempts: 1,
    });
    expect(api.received).toHaveLength(1);
  });

  it('does not retry a key reused for other readings (422), but waits out one in progress (409)', async () => {
    const reused = await serve([error(422, 'REFUSED', {}, { reason: 'idempotency-key-reused' })]);
    await expect(reused.client.ingest([reading], { idempotencyKey: 'k' })).rejects.toMatchObject({
      status: 422,
      reason: 'idempotency-key-reused',
      attempts: 1,
    });
    await close?.();
    const inProgress = await serve([
      error(409, 'CONFLICT', { 'retry-after': '0' }, { reason: 'idempotency-key-in-progress' }),
      accepted(),
    ]);
    await expect(
      inProgress.client.ingest([reading], { idempotencyKey: 'k' }),
    ).resolves.toMatchObject({
      attempts: 2,
    });
  });

  it('retries a dropped connection with the same key, then reports no answer as a network error', async () => {
    const recovered = await serve(['destroy', accepted()]);
    const result = await recovered.client.ingest([reading]);
    expect(result.attempts).toBe(2);
    expect(recovered.api.received[1]?.headers['idempotency-key']).toBe(result.idempotencyKey);
    await close?.();
    const down = await serve(['destroy']);
    const failure = await down.client.getDevice('meter-1').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GridstreamNetworkError);
    expect(failure).toMatchObject({ attempts: 4, retriable: true });
  });

  it('stops waiting for a retry when the caller aborts, with the signal reason', async () => {
    const { api, client } = await serve([error(503, 'OVERLOADED', { 'retry-after': '5' })]);
    const controller = new AbortController();
    const startedMs = Date.now();
    const call = client.ingest([reading], { signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 200);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - startedMs).toBeLessThan(2_000);
    expect(api.received).toHaveLength(1);
  });

  it('sends nothing for a signal aborted before the call', async () => {
    const { api, client } = await serve([accepted()]);
    await expect(client.ingest([reading], { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(api.received).toHaveLength(0);
  });

  it('refuses an answer that is not the documented shape', async () => {
    const { client } = await serve([{ status: 200, body: { deviceId: 'meter-1' } }]);
    const failure = await client.getDevice('meter-1').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GridstreamResponseError);
    expect((failure as Error).message).toMatch(/tenant/);
  });

  it('names ids and query parameters encoded, leaving unset ones out', async () => {
    const energy = {
      deviceId: 'a b/c',
      bucket: '1d',
      timeZone: 'Europe/Berlin',
      from: '2026-11-30T23:00:00.000Z',
      to: '2026-12-04T23:00:00.000Z',
      buckets: [],
    };
    const { api, client } = await serve([{ status: 200, body: energy }]);
    await client.getDeviceEnergy('a b/c', {
      bucket: '1d',
      timeZone: 'Europe/Berlin',
      from: new Date('2026-12-01T00:00:00Z'),
    });
    expect(api.received[0]?.url).toBe(
      '/v1/devices/a%20b%2Fc/energy?bucket=1d&timeZone=Europe%2FBerlin&from=2026-12-01T00%3A00%3A00.000Z',
    );
  });

  it('keeps the path of a base URL behind a proxy', async () => {
    const api = await scriptedApi([{ status: 200, body: { devices: [] } }]);
    close = api.close;
    const client = new GridstreamClient({ baseUrl: `${api.url}/gridstream`, apiKey: KEY });
    await client.listDevices({ siteId: 'site-1', limit: 5 });
    expect(api.received[0]?.url).toBe('/gridstream/v1/devices?siteId=site-1&limit=5');
  });

  it('follows nextCursor through every page of devices', async () => {
    const summary = (deviceId: string) => ({ deviceId, status: 'active', connectivity: 'online' });
    const { api, client } = await serve([
      {
        status: 200,
        body: { nextCursor: 'bWV0ZXItMg', devices: [summary('meter-1'), summary('meter-2')] },
      },
      { status: 200, body: { devices: [summary('meter-3')] } },
    ]);
    const ids: string[] = [];
    for await (const each of client.devices({ limit: 2 })) ids.push(each.deviceId);
    expect(ids).toEqual(['meter-1', 'meter-2', 'meter-3']);
    expect(api.received.map((r) => r.url)).toEqual([
      '/v1/devices?limit=2',
      '/v1/devices?limit=2&cursor=bWV0ZXItMg',
    ]);
  });

  it('refuses an empty batch or one over 1000 readings before sending', async () => {
    const { api, client } = await serve([accepted()]);
    await expect(client.ingest([])).rejects.toBeInstanceOf(RangeError);
    await expect(client.ingest(Array.from({ length: 1001 }, () => reading))).rejects.toBeInstanceOf(
      RangeError,
    );
    expect(api.received).toHaveLength(0);
  });
});
