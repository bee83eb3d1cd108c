import { describe, expect, it } from 'vitest';
import { bearer, isolatedConfig } from '../../../../test/support.ts';
import { teardown } from '../../../../test/cleanup.ts';
import { startApi } from '../server.ts';

// A producer's retry of a move without effectiveAt (it takes effect now) on the real API,
// MongoDB and Kafka: the Idempotency-Key is held to the request as sent, not to the clock the
// API filled in, so the retry answers the first move again instead of 409.
const config = isolatedConfig();
const stopAfterAll = teardown(config);
const TENANT = 'retrying';

describe('POST /v1/devices/:id/move retried with the same Idempotency-Key', () => {
  it('answers the first move again when effectiveAt was left out, and 409 for another body', async () => {
    const api = await startApi(config, { listen: false });
    stopAfterAll(() => api.close());
    const authorization = await bearer(api, TENANT);
    const call = (url: string, payload: object, key?: string) =>
      api.app.inject({
        method: 'POST',
        url,
        headers: { authorization, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        payload,
      });
    for (const siteId of ['north', 'south', 'west'])
      expect((await call('/v1/sites', { siteId, name: siteId, timeZone: 'UTC' })).statusCode).toBe(
        201,
      );
    const device = { deviceId: 'van', siteId: 'north', kind: 'meter', role: 'grid', name: 'Van' };
    expect((await call('/v1/devices', device)).statusCode).toBe(201);

    const first = await call('/v1/devices/van/move', { toSiteId: 'south' }, 'move-1');
    expect(first.statusCode, first.body).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the clock moves on
    const again = await call('/v1/devices/van/move', { toSiteId: 'south' }, 'move-1');
    expect(again.statusCode, again.body).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toMatchObject({
      replayed: true,
      eventId: first.json<{ eventId: string }>().eventId,
      device: {
        siteId: 'south',
        movedAt: first.json<{ device: { movedAt: string } }>().device.movedAt,
      },
    });
    const other = await call('/v1/devices/van/move', { toSiteId: 'west' }, 'move-1');
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ reason: 'idempotency-key-reused' });
  });
});
