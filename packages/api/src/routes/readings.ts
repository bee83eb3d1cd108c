import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EventType, hasMeasurement, ReadingFields, Timestamp } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import type { ApiDependencies } from '../dependencies.ts';
import type { ApiMetrics } from '../metrics.ts';
import { tenantOf } from '../auth/authenticate.ts';

export const MAX_READINGS_PER_REQUEST = 1000;

/** The shorthand for a plain reading: the payload plus when it was measured and, optionally, its id. */
export const ReadingInput = ReadingFields.extend({
  time: Timestamp,
  id: z.uuid().optional(),
}).refine(hasMeasurement.check, { message: hasMeasurement.message });

export const ReadingBatch = z.strictObject({
  readings: z.array(ReadingInput).min(1).max(MAX_READINGS_PER_REQUEST),
});

export const readingRoutes: FastifyPluginAsyncZod<{
  deps: ApiDependencies;
  metrics: ApiMetrics;
}> = async (app, { deps, metrics }) => {
  app.post(
    '/v1/readings',
    {
      bodyLimit: 2 * 1024 * 1024,
      config: { scope: 'ingest' },
      schema: {
        body: ReadingBatch,
        response: { 202: z.object({ accepted: z.number().int(), ids: z.array(z.string()) }) },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const events = request.body.readings.map(
        ({ time, id, ...data }): EventOf<typeof EventType.readingReported> => ({
          id: id ?? deps.newEventId(),
          type: EventType.readingReported,
          source: '/v1/readings',
          subject: data.deviceId,
          time: new Date(time).toISOString(),
          tenant,
          data,
        }),
      );
      await deps.publisher.publish(events);
      metrics.ingestedReadings.inc(events.length);
      return reply.code(202).send({ accepted: events.length, ids: events.map((e) => e.id) });
    },
  );
};
