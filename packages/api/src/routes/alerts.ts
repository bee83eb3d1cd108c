import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AlertKind, EntityId } from '@gridstream/events';
import { findAlerts } from '@gridstream/projection-alerts';
import type { ApiDependencies } from '../dependencies.ts';
import { AlertsResponse } from '../responses.ts';
import { tenantOf } from '../auth/authenticate.ts';

export const MAX_ALERTS_PER_REQUEST = 1000;

export const AlertsQuery = z.object({
  status: z.enum(['open', 'cleared']).optional(),
  siteId: EntityId.optional(),
  deviceId: EntityId.optional(),
  kind: AlertKind.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ALERTS_PER_REQUEST).default(100),
});

/** The tenant's alerts (the alerts read model), filtered, newest raised first. */
export const alertRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/alerts',
    {
      config: { scope: 'read' },
      schema: { querystring: AlertsQuery, response: { 200: AlertsResponse } },
    },
    async (request) => {
      const alerts = await findAlerts(await deps.alerts.collection(), {
        tenant: tenantOf(request),
        ...request.query,
      });
      return { alerts };
    },
  );
};
