import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EntityId } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { tenantOf } from '../auth/authenticate.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { boundedRange, emptyIfNoTable, rangeQuery } from './time-range.ts';

/** Buckets one answer may have at most: the range divided by the step. */
export const MAX_SERIES_POINTS = 10_000;
const MAX_RANGE_MS = 31 * 86_400_000;

const COLUMNS = {
  powerW: 'power_w',
  importWh: 'import_wh',
  exportWh: 'export_wh',
  voltageV: 'voltage_v',
  currentA: 'current_a',
  socPct: 'soc_pct',
  temperatureC: 'temperature_c',
} as const;
const STEPS_MS = {
  '1s': 1_000,
  '10s': 10_000,
  '30s': 30_000,
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
} as const;
const AGGREGATES = { mean: 'avg', min: 'min', max: 'max', last: 'last' } as const;

const SeriesQuery = z.object({
  field: z.enum(Object.keys(COLUMNS) as [keyof typeof COLUMNS]).default('powerW'),
  step: z
    .enum(Object.keys(STEPS_MS) as [keyof typeof STEPS_MS])
    .default('1m')
    .describe(`at most ${MAX_SERIES_POINTS} steps in the range (else 400)`),
  aggregate: z.enum(Object.keys(AGGREGATES) as [keyof typeof AGGREGATES]).default('mean'),
  ...rangeQuery(31, 'an hour'),
});

const SeriesResponse = z.object({
  deviceId: z.string(),
  field: z.string(),
  step: z.string(),
  aggregate: z.string(),
  from: z.string(),
  to: z.string(),
  points: z
    .array(z.object({ time: z.string(), value: z.number().nullable() }))
    .describe('one per step with readings (UTC-aligned), oldest first; steps without are left out'),
});

/** A device's readings bucketed by QuestDB's SAMPLE BY: one value per step, aggregated. */
export const seriesRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/devices/:id/series',
    {
      config: { scope: 'read' },
      schema: {
        params: z.object({ id: EntityId }),
        querystring: SeriesQuery,
        response: { 200: SeriesResponse },
      },
    },
    async (request) => {
      const { field, step, aggregate } = request.query;
      const { fromMs, toMs } = boundedRange(request.query, deps.now().getTime(), {
        defaultMs: 3_600_000,
        maxMs: MAX_RANGE_MS,
      });
      if ((toMs - fromMs) / STEPS_MS[step] > MAX_SERIES_POINTS)
        throw new GridstreamError(
          'VALIDATION',
          `${step} steps over this range would be more than ${MAX_SERIES_POINTS} points; choose a longer step or a shorter range`,
          { issues: [{ in: 'querystring', path: 'step', message: 'too fine for the range' }] },
        );
      // Every name in the statement comes from the fixed tables above, never from the request.
      const rows = await emptyIfNoTable(
        deps.questdb.query<{ ts: Date; value: number | string | null }>(
          `SELECT ts, ${AGGREGATES[aggregate]}(${COLUMNS[field]}) value
           FROM "${deps.readingsTable}"
           WHERE tenant = $1 AND device_id = $2 AND ts >= $3 AND ts < $4
           SAMPLE BY ${step} ALIGN TO CALENDAR`,
          [
            tenantOf(request),
            request.params.id,
            new Date(fromMs).toISOString(),
            new Date(toMs).toISOString(),
          ],
        ),
      );
      return {
        deviceId: request.params.id,
        field,
        step,
        aggregate,
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        points: rows.map((row) => ({
          time: row.ts.toISOString(),
          value: row.value === null || Number.isNaN(row.value) ? null : Number(row.value),
        })),
      };
    },
  );
};
