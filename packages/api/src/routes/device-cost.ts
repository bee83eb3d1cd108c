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
import { COST_RESOLUTIONS, costRange } from './cost-calendar.ts';
import { Grams, Money, grams, money } from './cost-figures.ts';
import { LocalDate } from './cost.ts';

const DeviceCostQuery = z.object({
  resolution: z
    .enum(COST_RESOLUTIONS)
    .default('day')
    .describe("UTC quarter hours, or its site's local days, months or years"),
  from: LocalDate.optional().describe(
    "first local day (inclusive, in its site's time zone); defaults and bounds as GET /v1/sites/{id}/cost",
  ),
  to: LocalDate.optional().describe('local day after the last one (exclusive); default tomorrow'),
});

const DeviceFigures = z.object({
  quarterHours: z.number().int().describe("the device's quarter hours in its site's priced ones"),
  importKWh: z.string().describe('kWh the device imported, exact decimal text'),
  exportKWh: z.string().describe('kWh the device exported (a producer: its production)'),
  importCost: Money.nullable().describe(
    "its import at the site's import price in force each quarter hour, net of VAT; null where a quarter hour with import had no price, or two currencies met",
  ),
  emissionsG: Grams.nullable().describe(
    "its import × the grid's carbon intensity each quarter hour; null where one was unknown",
  ),
  unpricedQuarterHours: z.number().int(),
});

const DeviceCostResponse = z.object({
  deviceId: z.string(),
  resolution: z.enum(COST_RESOLUTIONS),
  from: z.string(),
  to: z.string(),
  currency: z.string().nullable().describe('null if nothing was priced or two currencies met'),
  buckets: z
    .array(
      z.object({
        label: z
          .string()
          .describe("a quarter hour's UTC start, or a local day, month (YYYY-MM) or year"),
        siteIds: z.array(z.string()).describe('the sites the device was at in the bucket'),
        role: z.string(),
        currency: z.string().nullable(),
        ...DeviceFigures.shape,
      }),
    )
    .describe('the buckets with figures, in time order'),
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

/** One part of a bucket: a device's quarter hour, or its day at one site. */
interface Part {
  readonly label: string;
  readonly siteId: string;
  readonly role: string;
  readonly currency: string | null;
  readonly quarterHours: number;
  readonly importWh: string;
  readonly exportWh: string;
  readonly importCost: string | null;
  readonly emissionsG: string | null;
  readonly unpriced: number;
}

/** The parts' figures summed exactly; a null part makes the sum null, two currencies too. */
function summed(parts: readonly Part[]) {
  const currencies = new Set(parts.flatMap((p) => (p.currency === null ? [] : [p.currency])));
  const sum: Sum = {
    quarterHours: 0,
    importWh: decimal('0'),
    exportWh: decimal('0'),
    importCost: decimal('0'),
    emissionsG: decimal('0'),
    unpriced: 0,
  };
  for (const p of parts) {
    sum.quarterHours += p.quarterHours;
    sum.importWh = sum.importWh.plus(p.importWh);
    sum.exportWh = sum.exportWh.plus(p.exportWh);
    sum.importCost =
      sum.importCost === null || p.importCost === null ? null : sum.importCost.plus(p.importCost);
    sum.emissionsG =
      sum.emissionsG === null || p.emissionsG === null ? null : sum.emissionsG.plus(p.emissionsG);
    sum.unpriced += p.unpriced;
  }
  const currency = currencies.size === 1 ? ([...currencies][0] ?? null) : null;
  const cost = currencies.size > 1 ? null : sum.importCost;
  return {
    currency,
    figures: {
      quarterHours: sum.quarterHours,
      importKWh: sum.importWh.times('0.001').toString(),
      exportKWh: sum.exportWh.times('0.001').toString(),
      importCost: cost === null ? null : money(cost.toString(), currency),
      emissionsG: sum.emissionsG === null ? null : grams(sum.emissionsG.toString()),
      unpricedQuarterHours: sum.unpriced,
    },
  };
}

/** The device's parts in the stored days: its quarter hours, or its day lines. */
function partsOf(days: readonly SiteCostDay[], deviceId: string, quarters: boolean): Part[] {
  return days.flatMap((day) => {
    const currency = day.totals.currency;
    if (quarters)
      return day.deviceQuarters
        .filter((q) => q.deviceId === deviceId)
        .map((q) => ({
          label: new Date(q.startMs).toISOString(),
          siteId: day.siteId,
          role: q.role,
          currency,
          quarterHours: 1,
          importWh: q.importWh,
          exportWh: q.exportWh,
          importCost: q.importCost,
          emissionsG: q.emissionsG,
          unpriced: q.importCost === null ? 1 : 0,
        }));
    const line = day.devices.find((d) => d.deviceId === deviceId);
    return line === undefined
      ? []
      : [
          {
            label: day.date,
            siteId: day.siteId,
            role: line.role,
            currency,
            quarterHours: line.quarterHours,
            importWh: line.importWh,
            exportWh: line.exportWh,
            importCost: line.importCost,
            emissionsG: line.emissionsG,
            unpriced: line.unpricedQuarterHours,
          },
        ];
  });
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
      const { resolution } = request.query;
      const range = costRange(request.query, resolution, today);
      const quarters = resolution === 'quarter-hour';
      const parts = partsOf(
        await deps.siteCostDays.ofDevice(tenant, id, range, { quarters }),
        id,
        quarters,
      );
      // A day's lines of two sites (a move) are one day; months and years group days.
      const keyOf = (label: string) =>
        resolution === 'month'
          ? label.slice(0, 7)
          : resolution === 'year'
            ? label.slice(0, 4)
            : label;
      const groups = new Map<string, Part[]>();
      for (const part of parts) {
        const key = keyOf(part.label);
        groups.set(key, [...(groups.get(key) ?? []), part]);
      }
      const total = summed(parts);
      return {
        deviceId: id,
        resolution,
        from: range.fromDate,
        to: range.toDate,
        currency: total.currency,
        buckets: [...groups]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([label, group]) => {
            const { currency, figures } = summed(group);
            return {
              label,
              siteIds: [...new Set(group.map((p) => p.siteId))].sort(),
              role: group[0]?.role ?? '',
              currency,
              ...figures,
            };
          }),
        total: total.figures,
      };
    },
  );
};
