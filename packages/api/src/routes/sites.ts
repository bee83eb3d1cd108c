import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EntityId } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import type { ApiDependencies } from '../dependencies.ts';
import { SiteDayResponse } from '../responses.ts';
import { tenantOf } from '../auth/authenticate.ts';

const SiteDayParams = z.object({
  id: EntityId,
  date: z.iso.date({ message: 'a calendar date, YYYY-MM-DD' }),
});

/** A site's energy on one local day (the site-energy read model). */
export const siteRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/sites/:id/energy/days/:date',
    {
      config: { scope: 'read' },
      schema: { params: SiteDayParams, response: { 200: SiteDayResponse } },
    },
    async (request) => {
      const { id, date } = request.params;
      const collection = await deps.siteEnergy.collection();
      const document = await collection.findOne({
        _id: `${tenantOf(request)}/${id}/${date}`,
      });
      if (document === null)
        throw new GridstreamError('NOT_FOUND', `no energy of site ${id} on ${date}`);
      const { quarters: _quarters, ...day } = document.state;
      return day;
    },
  );
};
