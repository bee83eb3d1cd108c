import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { queryCommandStats } from '@gridstream/projection-commands';
import { tenantOf } from '../auth/authenticate.ts';
import type { ApiDependencies } from '../dependencies.ts';

const DAY_MS = 86_400_000;

const SummaryResponse = z.object({
  tenant: z.string(),
  at: z.string(),
  sites: z.number().describe('sites with at least one registered device'),
  devices: z.object({
    total: z.number(),
    active: z.number(),
    decommissioned: z.number(),
    online: z.number().describe('active, with a reading within GS_DEVICE_OFFLINE_AFTER_MS'),
  }),
  openAlerts: z.number(),
  commandsLast24h: z.number(),
});

/**
 * The organisation at a glance: counts from the read models (each an indexed count, never a
 * scan of readings), for a dashboard's header.
 */
export const summaryRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/summary',
    { config: { scope: 'read' }, schema: { response: { 200: SummaryResponse } } },
    async (request) => {
      const tenant = tenantOf(request);
      const now = deps.now();
      const onlineSince = new Date(now.getTime() - deps.offlineAfterMs).toISOString();
      const [devices, alerts, commands] = await Promise.all([
        deps.devices.collection(),
        deps.alerts.collection(),
        deps.commands.collection(),
      ]);
      const [total, active, decommissioned, online, siteIds, openAlerts, stats] = await Promise.all(
        [
          devices.countDocuments({ 'state.tenant': tenant }),
          devices.countDocuments({ 'state.tenant': tenant, 'state.status': 'active' }),
          devices.countDocuments({ 'state.tenant': tenant, 'state.status': 'decommissioned' }),
          devices.countDocuments({
            'state.tenant': tenant,
            'state.status': 'active',
            'state.lastSeenAt': { $gte: onlineSince },
          }),
          devices.distinct('state.siteId', { 'state.tenant': tenant }),
          alerts.countDocuments({ 'state.tenant': tenant, 'state.status': 'open' }),
          queryCommandStats(commands, {
            tenant,
            from: new Date(now.getTime() - DAY_MS).toISOString(),
            to: now.toISOString(),
          }),
        ],
      );
      return {
        tenant,
        at: now.toISOString(),
        sites: siteIds.filter((id) => typeof id === 'string').length,
        devices: { total, active, decommissioned, online },
        openAlerts,
        commandsLast24h: stats.commands,
      };
    },
  );
};
