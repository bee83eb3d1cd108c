import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { GridstreamError } from '@gridstream/errors';
import { installErrorHandler } from './errors.ts';

describe('the error handler', () => {
  it('answers a backing service that is down with 503 and retry-after, however it was reported', async () => {
    // given routes failing as ingest does (our coded error) and as a driver does (a network error)
    const app = Fastify();
    installErrorHandler(app);
    app.get('/coded', () => {
      throw new GridstreamError('DEPENDENCY_UNAVAILABLE', 'Kafka did not take the batch');
    });
    app.get('/driver', () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), {
        code: 'ECONNREFUSED',
      });
    });
    app.get('/bug', () => {
      throw new Error('a bug');
    });
    // then both outages are 503 with retry-after, and only a bug is a 500
    for (const url of ['/coded', '/driver']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(503);
      expect(response.headers['retry-after'], url).toBe('1');
      expect(response.json(), url).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    }
    expect((await app.inject({ url: '/bug' })).statusCode).toBe(500);
    await app.close();
  });
});
