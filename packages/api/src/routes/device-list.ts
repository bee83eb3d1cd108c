import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DeviceKind, EntityId } from '@gridstream/events';
import { deviceConnectivity, findDevices, todayEnergy } from '@gridstream/projection-devices';
import type { ApiDependencies } from '../dependencies.ts';
import { tenantOf } from '../auth/authenticate.ts';

export const MAX_DEVICES_PER_REQUEST = 1000;

const DeviceListQuery = z.object({
  siteId: EntityId.optional(),
  kind: DeviceKind.optional(),
  status: z.enum(['active', 'decommissioned', 'unregistered']).optional(),
  q: z.string().min(1).max(100).optional().describe('part of the device id or name, any case'),
  cursor: z
    .string()
    .max(400)
    .regex(/^[A-Za-z0-9_-]+$/, 'nextCursor of the page before, unchanged')
    .optional()
    .describe('`nextCursor` of the page before; the filters must be the same'),
  limit: z.coerce.number().int().min(1).max(MAX_DEVICES_PER_REQUEST).default(100),
});

/**
 * A page ends at a device id; the cursor carries it opaquely (base64url). Any cursor of that
 * form is a place in the order of ids, so one the API did not give is a page too, not an error.
 */
const encodeCursor = (deviceId: string) => Buffer.from(deviceId).toString('base64url');
const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString();

/** Each device as GET /v1/devices/:id shows it; a read model may add fields, which are kept. */
const DeviceListResponse = z.object({
  nextCursor: z
    .string()
    .optional()
    .describe('present when there may be more: pass it as cursor for the next page'),
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

/**
 * The tenant's devices, filtered by site, kind, status and text, ordered by id, a page at a
 * time: what a dashboard lists.
 */
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
      const { cursor, q, ...filters } = request.query;
      const devices = await findDevices(await deps.devices.collection(), {
        tenant: tenantOf(request),
        ...filters,
        search: q,
        afterDeviceId: cursor === undefined ? undefined : decodeCursor(cursor),
      });
      const last = devices.at(-1);
      const nowMs = deps.now().getTime();
      return {
        ...(last !== undefined && devices.length === filters.limit
          ? { nextCursor: encodeCursor(last.deviceId) }
          : {}),
        devices: devices.map((stored) => {
          const { energyDay, ...view } = deps.latestReadings.freshen(stored);
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
