import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDependencies } from '../dependencies.ts';

const Readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z
    .record(z.string(), z.boolean())
    .describe('kafka, questdb, mongodb: whether each answered'),
  down: z.array(z.string()).describe('the backing services that did not answer'),
});

/** Liveness (the process answers) and readiness (Kafka, QuestDB and MongoDB answer); no key. */
export const healthRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    { schema: { response: { 200: Readiness, 503: Readiness } } },
    async (_request, reply) => {
      const checks = await deps.checkReadiness();
      const down = Object.entries(checks)
        .filter(([, up]) => !up)
        .map(([name]) => name);
      const ready = down.length === 0;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not ready', checks, down });
    },
  );
};
