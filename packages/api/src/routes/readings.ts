import { z } from 'zod';
import { GridstreamError } from '@gridstream/errors';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ReadingIngest } from '../ingest/ingest.ts';
import { ReadingBatch } from '../ingest/reading-batch.ts';
import type { ApiMetrics } from '../metrics.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { validationError } from '../errors.ts';

export const readingRoutes: FastifyPluginAsyncZod<{
  ingest: ReadingIngest;
  metrics: ApiMetrics;
}> = async (app, { ingest, metrics }) => {
  // This route's body stays raw bytes: it is parsed and checked against ReadingBatch where it is
  // published (an ingest worker thread), so a batch does not hold the event loop that answers
  // queries. The schema still describes the body in the OpenAPI document.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  app.post(
    '/v1/readings',
    {
      bodyLimit: 2 * 1024 * 1024,
      config: { scope: 'ingest' },
      schema: {
        body: ReadingBatch,
        response: { 202: z.object({ accepted: z.number().int(), ids: z.array(z.string()) }) },
      },
      validatorCompiler: () => (body: unknown) => ({ value: body }),
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      // The content type parser above made a JSON body a Buffer. A request with no body and no
      // content type has none at all: it is the empty body it is, not a crash (it answered 500).
      const body: unknown = request.body;
      if (!(body instanceof Uint8Array))
        throw new GridstreamError(
          'VALIDATION',
          'The body must be a JSON object {"readings": [...]}, sent with content-type: application/json',
          { issues: [{ in: 'body', path: '', message: 'a JSON body is required' }] },
        );
      const outcome = await ingest.submit(tenant, body);
      if (!outcome.ok) {
        const { message } = validationError('body', outcome);
        // A body that is not JSON at all has a message and no field to name.
        throw new GridstreamError(
          'VALIDATION',
          message,
          outcome.issues.length > 0 ? { issues: outcome.issues } : undefined,
        );
      }
      metrics.ingestedReadings.inc(outcome.ids.length);
      return reply.code(202).send({ accepted: outcome.ids.length, ids: [...outcome.ids] });
    },
  );
};
