import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EntityId } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { deviceConnectivity, findDevice, todayEnergy } from '@gridstream/projection-devices';
import type { ApiDependencies } from '../dependencies.ts';
import { DeviceResponse, ReadingsResponse } from '../responses.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { boundedRange, emptyIfNoTable, rangeQuery } from './time-range.ts';

const MAX_READINGS_RANGE_MS = 31 * 24 * 3600 * 1000;
const DEFAULT_READINGS_RANGE_MS = 3600 * 1000;

const DeviceParams = z.object({ id: EntityId });

const ReadingsQuery = z.object({
  ...rangeQuery(31, 'an hour'),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});

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
      const stored = await findDevice(
        await deps.devices.collection(),
        tenantOf(request),
        request.params.id,
      );
      if (stored === undefined)
        throw new GridstreamError('NOT_FOUND', `no device ${request.params.id}`);
      const device = deps.latestReadings.freshen(stored);
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
        querystring: ReadingsQuery,
        response: { 200: ReadingsResponse },
      },
    },
    async (request) => {
      const { fromMs, toMs } = boundedRange(request.query, deps.now().getTime(), {
        defaultMs: DEFAULT_READINGS_RANGE_MS,
        maxMs: MAX_READINGS_RANGE_MS,
      });
      const limit = request.query.limit;
      const rows = await emptyIfNoTable(
        deps.questdb.query<ReadingRow>(
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
        ),
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
