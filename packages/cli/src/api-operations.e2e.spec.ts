import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import { bearer, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

/** A port nothing listens on: taken from the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const REQUESTS_PER_MINUTE = 3;
let limited: RunningApi;
let questDbDown: RunningApi;

beforeAll(async () => {
  const config = isolatedConfig({ GS_API_RATE_LIMIT_PER_MINUTE: String(REQUESTS_PER_MINUTE) });
  const stopAfterAll = teardown(config);
  limited = await startApi(config, { listen: false });
  stopAfterAll(() => limited.close());
  // The same servers, but QuestDB's PG wire is looked for where nothing listens.
  const broken = { ...config, GS_QDB_PG_PORT: await closedPort() };
  questDbDown = await startApi(broken, { listen: false });
  stopAfterAll(() => questDbDown.close());
});

describe('operations: health, readiness, limits', () => {
  it('is alive and ready without a key when every backing service answers', async () => {
    const health = await limited.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const ready = await limited.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      checks: { kafka: true, questdb: true, mongodb: true },
      down: [],
    });
  });

  it('answers /readyz 503 naming the service that is down, and stays alive', async () => {
    const ready = await questDbDown.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({
      status: 'not ready',
      checks: { kafka: true, questdb: false, mongodb: true },
      down: ['questdb'],
    });
    expect((await questDbDown.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE with retry-after to a query its dependency cannot answer', async () => {
    const response = await questDbDown.app.inject({
      url: '/v1/devices/meter-1/readings',
      headers: { authorization: await bearer(questDbDown, 'acme', ['read']) },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(response.headers['retry-after']).toBe('1');
  });

  it('limits requests per key: 429 RATE_LIMITED with retry-after, other keys unaffected', async () => {
    const busy = await bearer(limited, 'acme', ['read']);
    const get = (authorization: string) =>
      limited.app.inject({ url: '/v1/alerts', headers: { authorization } });
    for (let i = 0; i < REQUESTS_PER_MINUTE; i++) expect((await get(busy)).statusCode).toBe(200);
    const refused = await get(busy);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.json<{ message: string }>().message).toMatch(/retry in/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // another key of the same tenant has its own budget, and /healthz needs none
    expect((await get(await bearer(limited, 'acme', ['read']))).statusCode).toBe(200);
    for (let i = 0; i <= REQUESTS_PER_MINUTE; i++)
      expect((await limited.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses a body over the limit with 413 PAYLOAD_TOO_LARGE before reading it', async () => {
    const response = await limited.app.inject({
      method: 'POST',
      url: '/v1/commands/some-command/cancel',
      headers: {
        authorization: await bearer(limited, 'acme', ['command']),
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ reason: 'x'.repeat(300 * 1024) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});
