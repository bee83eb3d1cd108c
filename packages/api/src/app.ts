import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ApiDependencies } from './dependencies.ts';
import { installErrorHandler } from './errors.ts';
import { createApiMetrics, instrumentHttp } from './metrics.ts';
import { alertRoutes } from './routes/alerts.ts';
import { commandRoutes } from './routes/commands.ts';
import { deviceHistoryRoutes } from './routes/device-history.ts';
import { deviceRoutes } from './routes/devices.ts';
import { siteRoutes } from './routes/sites.ts';
import { healthRoutes } from './routes/health.ts';
import { readingRoutes } from './routes/readings.ts';

/** Builds the API without listening, so tests can `inject` requests without a socket. */
export async function buildApp(
  deps: ApiDependencies,
  options: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 256 * 1024, ...options });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  const metrics = createApiMetrics(deps.observeKafka);
  instrumentHttp(app, metrics);
  await app.register(healthRoutes, { deps });
  await app.register(readingRoutes, { deps, metrics });
  await app.register(deviceRoutes, { deps });
  await app.register(deviceHistoryRoutes, { deps });
  await app.register(siteRoutes, { deps });
  await app.register(alertRoutes, { deps });
  await app.register(commandRoutes, { deps });
  return app;
}
