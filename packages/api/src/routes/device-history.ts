import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EntityId, Timestamp } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { deviceConnectivity, loadDeviceStateAt } from '@gridstream/projection-devices';
import { readDeviceEvents } from '@gridstream/questdb';
import type { ApiDependencies } from '../dependencies.ts';
import { DeviceHistoryResponse, DeviceStateResponse } from '../responses.ts';
import { tenantOf } from '../auth/authenticate.ts';

const DeviceParams = z.object({ id: EntityId });

const HistoryQuery = z
  .object({
    from: Timestamp.optional().describe('start (inclusive); default the first event; before `to`'),
    to: Timestamp.optional().describe('end (exclusive); default now'),
    limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
  })
  .refine(
    (q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to),
    {
      message: 'from must be before to',
      path: ['from'],
    },
  );

const StateQuery = z.object({ at: Timestamp });

/**
 * A device's history (every archived event that is not a reading, oldest first) and its state
 * as of an instant, folded from its events the way the live projection folds them.
 */
export const deviceHistoryRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/devices/:id/history',
    {
      config: { scope: 'read' },
      schema: {
        params: DeviceParams,
        querystring: HistoryQuery,
        response: { 200: DeviceHistoryResponse },
      },
    },
    async (request) => {
      const { from, to, limit } = request.query;
      const fromMs = from === undefined ? 0 : Date.parse(from);
      const toMs = to === undefined ? deps.now().getTime() : Date.parse(to);
      const events = await readDeviceEvents(deps.questdb, deps.eventsTable, {
        tenant: tenantOf(request),
        deviceId: request.params.id,
        fromMs,
        toMs,
        limit,
      });
      return { deviceId: request.params.id, events };
    },
  );

  app.get(
    '/v1/devices/:id/state',
    {
      config: { scope: 'read' },
      schema: {
        params: DeviceParams,
        querystring: StateQuery,
        response: { 200: DeviceStateResponse },
      },
    },
    async (request) => {
      const atMs = Date.parse(request.query.at);
      const view = await loadDeviceStateAt(
        deps.questdb,
        { events: deps.eventsTable, readings: deps.readingsTable },
        tenantOf(request),
        request.params.id,
        atMs,
      );
      if (view === null) {
        throw new GridstreamError(
          'NOT_FOUND',
          `no event of device ${request.params.id} at or before ${request.query.at}`,
        );
      }
      return {
        at: new Date(atMs).toISOString(),
        ...view,
        connectivity: deviceConnectivity(view, atMs, deps.offlineAfterMs),
      };
    },
  );
};
