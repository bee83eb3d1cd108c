import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { decimal } from '@gridstream/cost-core';
import type { Decimal, SiteCostDay } from '@gridstream/cost-core';
import { localDate } from '@gridstream/energy-core';
import { EntityId } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { findDevice } from '@gridstream/projection-devices';
import { tenantOf } from '../auth/authenticate.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { costRange } from './cost-calendar.ts';
import { Grams, Money, grams, kWh, money } from './cost-figures.ts';
import { LocalDate } from './cost.ts';

const DeviceCostQuery = z.object({
  from: LocalDate.optional().describe(
    "first local day (inclusive, in its site's time zone); default the 1st of the month of the day before `to`; at most 366 days before `to`",
  ),
  to: LocalDate.optional().describe('local day after the last one (exclusive); default tomorrow'),
});

const DeviceFigures = z.object({
  quarterHours: z.number().int().describe("the device's quarter hours in its site's priced ones"),
  importKWh: z.string().describe('kWh the device imported, exact decimal text'),
  exportKWh: z.string().describe('kWh the device exported (a producer: its production)'),
  importCost: Money.nullable().describe(
    "its import at the site's import price in force each quarter hour, net of VAT; null where a quarter hour with import had no price, or the days are in two currencies",
  ),
  emissionsG: Grams.nullable().describe(
    "its import × the grid's carbon intensity each quarter hour; null where one was unknown",
  ),
  unpricedQuarterHours: z.number().int(),
});

const DeviceCostResponse = z.object({
  deviceId: z.string(),
  from: z.string(),
  to: z.string(),
  currency: z.string().nullable().describe('null if nothing was priced or two currencies met'),
  days: z
    .array(
      z.object({
        date: z.string().describe("local day in its site's time zone"),
        siteId: z.string(),
        role: z.string(),
        currency: z.string().nullable(),
        ...DeviceFigures.shape,
      }),
    )
    .describe('the days with figures, in date order (a device that moved: a day per site)'),
  total: DeviceFigures,
});

interface Sum {
  quarterHours: number;
  importWh: Decimal;
  exportWh: Decimal;
  importCost: Decimal | null;
  emissionsG: Decimal | null;
  unpriced: number;
}

/**
 * A device's cost and emissions per local day (docs/cost.md, "Per device"): what its import
 * cost at its site's import price and emitted at the grid's intensity, from the days the cost
 * processor stored for its site (or sites, if it moved).
 */
export const deviceCostRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/devices/:id/cost',
    {
      config: { scope: 'read' },
      schema: {
        params: z.object({ id: EntityId }),
        querystring: DeviceCostQuery,
        response: { 200: DeviceCostResponse },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const { id } = request.params;
      const device = await findDevice(await deps.devices.collection(), tenant, id);
      if (device === undefined) throw new GridstreamError('NOT_FOUND', `no device ${id}`);
      const today = localDate(deps.now().getTime(), device.timeZone ?? 'UTC');
      const range = costRange(request.query, 'day', today);
      const stored = await deps.siteCostDays.ofDevice(tenant, id, range);
      const currencies = new Set<string>();
      const total: Sum = {
        quarterHours: 0,
        importWh: decimal('0'),
        exportWh: decimal('0'),
        importCost: decimal('0'),
        emissionsG: decimal('0'),
        unpriced: 0,
      };
      const days = stored.flatMap((day: SiteCostDay) => {
        const line = day.devices.find((d) => d.deviceId === id);
        if (line === undefined) return [];
        const currency = day.totals.currency;
        if (currency !== null) currencies.add(currency);
        total.quarterHours += line.quarterHours;
        total.importWh = total.importWh.plus(line.importWh);
        total.exportWh = total.exportWh.plus(line.exportWh);
        total.importCost =
          total.importCost === null || line.importCost === null
            ? null
            : total.importCost.plus(line.importCost);
        total.emissionsG =
          total.emissionsG === null || line.emissionsG === null
            ? null
            : total.emissionsG.plus(line.emissionsG);
        total.unpriced += line.unpricedQuarterHours;
        return [
          {
            date: day.date,
            siteId: day.siteId,
            role: line.role,
            currency,
            quarterHours: line.quarterHours,
            importKWh: kWh(line.importWh),
            exportKWh: kWh(line.exportWh),
            importCost: line.importCost === null ? null : money(line.importCost, currency),
            emissionsG: line.emissionsG === null ? null : grams(line.emissionsG),
            unpricedQuarterHours: line.unpricedQuarterHours,
          },
        ];
      });
      const currency = currencies.size === 1 ? ([...currencies][0] ?? null) : null;
      const cost = currencies.size > 1 ? null : total.importCost;
      return {
        deviceId: id,
        from: range.fromDate,
        to: range.toDate,
        currency,
        days,
        total: {
          quarterHours: total.quarterHours,
          importKWh: total.importWh.times('0.001').toString(),
          exportKWh: total.exportWh.times('0.001').toString(),
          importCost: cost === null ? null : money(cost.toString(), currency),
          emissionsG: total.emissionsG === null ? null : grams(total.emissionsG.toString()),
          unpricedQuarterHours: total.unpriced,
        },
      };
    },
  );
};
