import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EntityId } from '@gridstream/events';
import { deviceConnectivity, findDevices, todayEnergy } from '@gridstream/projection-devices';
import type { ApiDependencies } from '../dependencies.ts';
import { tenantOf } from '../auth/authenticate.ts';

export const MAX_DEVICES_PER_REQUEST = 1000;

const DeviceListQuery = z.object({
  siteId: EntityId.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_DEVICES_PER_REQUEST).default(100),
});

/** Each device as GET /v1/devices/:id shows it; a read model may add fields, which are kept. */
const DeviceListResponse = z.object({
  devices: z.array(
    z.looseObject({
      deviceId: z.string(),
      status: z.string(),
      siteId: z.string().optional(),
      name: z.string().optional(),
      kind: z.string().optional(),
      connectivity: z.enum(['online', 'offline', 'never_seen']),
    }),
  ),
});

/** The tenant's devices (of one site with `siteId`), ordered by id: what a dashboard lists. */
export const deviceListRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/devices',
    {
      config: { scope: 'read' },
      schema: { querystring: DeviceListQuery, response: { 200: DeviceListResponse } },
    },
    async (request) => {
      const devices = await findDevices(await deps.devices.collection(), {
        tenant: tenantOf(request),
        ...request.query,
      });
      const nowMs = deps.now().getTime();
      return {
        devices: devices.map(({ energyDay, ...view }) => {
          const today = todayEnergy({ energyDay }, nowMs);
          return {
            ...view,
            connectivity: deviceConnectivity(view, nowMs, deps.offlineAfterMs),
            ...(today === undefined ? {} : { today }),
          };
        }),
      };
    },
  );
};
