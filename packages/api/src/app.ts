import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { GridstreamError } from '@gridstream/errors';
import { installAuthentication } from './auth/authenticate.ts';
import type { ApiDependencies } from './dependencies.ts';
import { answerFrameworkError, installErrorHandler } from './errors.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { createApiMetrics, instrumentHttp, observeDelivery } from './metrics.ts';
import { installOpenApi } from './openapi.ts';
import { alertRoutes } from './routes/alerts.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { commandRoutes } from './routes/commands.ts';
import { deviceHistoryRoutes } from './routes/device-history.ts';
import { deviceListRoutes } from './routes/device-list.ts';
import { deviceRoutes } from './routes/devices.ts';
import { siteRoutes } from './routes/sites.ts';
import { costRoutes } from './routes/cost.ts';
import { deviceCostRoutes } from './routes/device-cost.ts';
import { registryRoutes } from './routes/registry.ts';
import { siteTariffRoutes } from './routes/site-tariffs.ts';
import { healthRoutes } from './routes/health.ts';
import { readingRoutes } from './routes/readings.ts';
import { streamRoutes } from './routes/stream.ts';
import { energyRoutes } from './routes/energy.ts';
import { seriesRoutes } from './routes/series.ts';
import { summaryRoutes } from './routes/summary.ts';

/** Bytes a request body may have unless its route says otherwise (POST /v1/readings: 2 MiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * The longest path parameter the router reads: an id may have 128 characters, and each may be
 * percent-encoded (3 each). Longer is 414; shorter but not an id is 400, naming the parameter.
 */
const MAX_PARAM_LENGTH = 3 * 128;

/** Builds the API without listening, so tests can `inject` requests without a socket. */
export async function buildApp(
  deps: ApiDependencies,
  options: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
    ...options,
  });
  // Every body is JSON (the document says application/json): text is 415, as any other type.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  installAuthentication(app, deps.apiKeys);
  // After authentication (onRequest), before the body is parsed: counted per key, not per address.
  await app.register(fastifyRateLimit, {
    hook: 'preParsing',
    max: deps.limits.requestsPerMinutePerKey,
    timeWindow: 60_000,
    allowList: (request) => request.principal === undefined,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    errorResponseBuilder: (_request, context) =>
      new GridstreamError(
        'RATE_LIMITED',
        `this API key made more than ${context.max} requests in a minute; retry in ${context.after}`,
      ),
  });
  await installOpenApi(app);
  const metrics = createApiMetrics(deps.observeKafka);
  instrumentHttp(app, metrics);
  const stopObservingDelivery = observeDelivery(metrics, deps.live);
  app.addHook('onClose', async () => {
    stopObservingDelivery();
  });
  await app.register(healthRoutes, { deps });
  await app.register(readingRoutes, {
    ingest: deps.ingest,
    metrics,
    maxInFlight: deps.limits.ingestMaxInFlight,
  });
  await app.register(deviceRoutes, { deps });
  await app.register(deviceListRoutes, { deps });
  await app.register(deviceHistoryRoutes, { deps });
  await app.register(siteRoutes, { deps });
  await app.register(costRoutes, { deps });
  await app.register(deviceCostRoutes, { deps });
  await app.register(registryRoutes, { deps });
  await app.register(siteTariffRoutes, { deps });
  await app.register(alertRoutes, { deps });
  await app.register(deadLetterRoutes, { deps });
  await app.register(commandRoutes, { deps });
  await app.register(streamRoutes, { feed: deps.live });
  await app.register(seriesRoutes, { deps });
  await app.register(energyRoutes, { deps });
  await app.register(summaryRoutes, { deps });
  await app.register(dashboardRoutes);
  return app;
}
