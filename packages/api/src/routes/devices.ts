import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EntityId, Timestamp } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { deviceConnectivity, findDevice, todayEnergy } from '@gridstream/projection-devices';
import type { ApiDependencies } from '../dependencies.ts';
import { DeviceResponse, ReadingsResponse } from '../responses.ts';
import { tenantOf } from '../auth/authenticate.ts';

export const MAX_SERIES_RANGE_MS = 31 * 24 * 3600 * 1000;
const DEFAULT_SERIES_RANGE_MS = 3600 * 1000;

const DeviceParams = z.object({ id: EntityId });

export const SeriesQuery = z
  .object({
    from: Timestamp.optional(),
    to: Timestamp.optional(),
    limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
  })
  .refine(
    (q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to),
    {
      message: 'from must be before to',
      path: ['from'],
    },
  )
  .refine(
    (q) =>
      q.from === undefined ||
      q.to === undefined ||
      Date.parse(q.to) - Date.parse(q.from) <= MAX_SERIES_RANGE_MS,
    {
      message: 'the range may span at most 31 days',
      path: ['to'],
    },
  );

interface ReadingRow {
  ts: Date;
  power_w: number | null;
  import_wh: number | null;
  export_wh: number | null;
  voltage_v: number | null;
  current_a: number | null;
  soc_pct: number | null;
  temperature_c: number | null;
  quality: string;
}

const present = <T>(name: string, value: T | null) => (value === null ? {} : { [name]: value });

export const deviceRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/devices/:id',
    {
      config: { scope: 'read' },
      schema: { params: DeviceParams, response: { 200: DeviceResponse } },
    },
    async (request) => {
      const device = await findDevice(
        await deps.devices.collection(),
        tenantOf(request),
        request.params.id,
      );
      if (device === undefined)
        throw new GridstreamError('NOT_FOUND', `no device ${request.params.id}`);
      const { energyDay: _energyDay, ...view } = device;
      const nowMs = deps.now().getTime();
      const today = todayEnergy(device, nowMs);
      return {
        ...view,
        connectivity: deviceConnectivity(device, nowMs, deps.offlineAfterMs),
        ...(today === undefined ? {} : { today }),
      };
    },
  );

  app.get(
    '/v1/devices/:id/readings',
    {
      config: { scope: 'read' },
      schema: {
        params: DeviceParams,
        querystring: SeriesQuery,
        response: { 200: ReadingsResponse },
      },
    },
    async (request) => {
      const { from, to, limit } = request.query;
      const toMs = to === undefined ? deps.now().getTime() : Date.parse(to);
      const fromMs = from === undefined ? toMs - DEFAULT_SERIES_RANGE_MS : Date.parse(from);
      if (toMs - fromMs > MAX_SERIES_RANGE_MS || fromMs >= toMs) {
        throw new GridstreamError(
          'VALIDATION',
          'the range must be non-empty and span at most 31 days',
          {
            issues: [
              { path: 'from', message: 'from must be before to and at most 31 days before it' },
            ],
          },
        );
      }
      const rows = await deps.questdb.query<ReadingRow>(
        `SELECT ts, power_w, import_wh, export_wh, voltage_v, current_a, soc_pct, temperature_c, quality
         FROM "${deps.readingsTable}"
         WHERE tenant = $1 AND device_id = $2 AND ts >= $3 AND ts < $4
         ORDER BY ts LIMIT $5`,
        [
          tenantOf(request),
          request.params.id,
          new Date(fromMs).toISOString(),
          new Date(toMs).toISOString(),
          limit,
        ],
      );
      return {
        deviceId: request.params.id,
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        readings: rows.map((row) => ({
          time: row.ts.toISOString(),
          quality: row.quality,
          ...present('powerW', row.power_w),
          ...present('importWh', row.import_wh),
          ...present('exportWh', row.export_wh),
          ...present('voltageV', row.voltage_v),
          ...present('currentA', row.current_a),
          ...present('socPct', row.soc_pct),
          ...present('temperatureC', row.temperature_c),
        })),
      };
    },
  );
};
