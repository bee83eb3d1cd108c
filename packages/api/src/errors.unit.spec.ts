import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { GridstreamError } from '@gridstream/errors';
import { answerFrameworkError, installErrorHandler } from './errors.ts';

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

describe("Fastify's own refusals", () => {
  const appWithRoutes = async () => {
    const app = Fastify({
      routerOptions: { maxParamLength: 20 },
      frameworkErrors: answerFrameworkError,
    });
    installErrorHandler(app);
    app.get('/v1/devices/:id', () => ({ ok: true }));
    app.patch('/v1/devices/:id', () => ({ ok: true }));
    app.post('/v1/devices/batch', (request) => request.body);
    await app.ready();
    return app;
  };

  it('answers a known path with another method 405 and names the methods it takes', async () => {
    // given a path taken by GET and PATCH, and a fixed one beside its parameter
    const app = await appWithRoutes();
    // when it is asked with methods it does not take
    const trace = await app.inject({ method: 'TRACE', url: '/v1/devices/d1' });
    const query = await app.inject({ method: 'QUERY', url: '/v1/devices/d1' });
    const batch = await app.inject({ method: 'GET', url: '/v1/devices/batch/x' });
    const options = await app.inject({ method: 'OPTIONS', url: '/v1/devices/batch' });
    // then 405 with allow, a body of the error format, and 404 for a path nobody takes
    expect(trace.statusCode).toBe(405);
    expect(trace.headers.allow).toBe('GET, HEAD, PATCH, OPTIONS');
    expect(trace.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    expect(query.statusCode).toBe(405); // fails where a body is parsed, before routing answers
    expect(batch.statusCode).toBe(404);
    expect(batch.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect(options.statusCode).toBe(204);
    expect(options.headers.allow).toBe('POST, OPTIONS');
    await app.close();
  });

  it('answers an overlong parameter, a malformed path and a foreign media type as errors', async () => {
    const app = await appWithRoutes();
    const long = await app.inject({ url: `/v1/devices/${'d'.repeat(30)}` });
    const malformed = await app.inject({ url: '/v1/devices/%E0%A4%A' });
    const text = await app.inject({
      method: 'POST',
      url: '/v1/devices/batch',
      headers: { 'content-type': 'application/xml' },
      payload: '<hello/>',
    });
    const notJson = await app.inject({
      method: 'POST',
      url: '/v1/devices/batch',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    expect([long.statusCode, long.json<{ code: string }>().code]).toEqual([414, 'URI_TOO_LONG']);
    expect([malformed.statusCode, malformed.json<{ code: string }>().code]).toEqual([
      400,
      'VALIDATION',
    ]);
    expect([text.statusCode, text.json<{ code: string }>().code]).toEqual([
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ]);
    expect([notJson.statusCode, notJson.json<{ code: string }>().code]).toEqual([
      400,
      'VALIDATION',
    ]);
    await app.close();
  });
});
