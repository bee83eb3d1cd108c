import { z } from 'zod';
import { GridstreamError } from '@gridstream/errors';
import { validatorCompiler as zodValidatorCompiler } from 'fastify-type-provider-zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { startIngestSpan } from '@gridstream/telemetry';
import { InFlightLimit } from '../ingest/in-flight.ts';
import type { InFlightSlot } from '../ingest/in-flight.ts';
import type { KeyConflict, ReadingIngest } from '../ingest/ingest.ts';
import { KEY_CLAIM_MS, KEY_TTL_MS } from '../ingest/keyed-batch.ts';
import { ReadingBatch } from '../ingest/reading-batch.ts';
import type { ApiMetrics } from '../metrics.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { ErrorBodySchema, validationError } from '../errors.ts';
import type { ErrorBody } from '../errors.ts';

const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Seconds a shed batch or a key's twin is told to wait: a batch takes milliseconds. */
const RETRY_AFTER_S = 1;

const ReadingHeaders = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe(
      `optional, the tenant's own: the same key with the same readings answers the first 202 again (same ids) and publishes nothing; with other readings 422 idempotency-key-reused; while the first is publishing 409 idempotency-key-in-progress. Kept ${KEY_TTL_MS / 3600_000} h`,
    ),
  traceparent: z
    .string()
    .optional()
    .describe(
      'optional, W3C Trace Context: with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), the ingest span is its child and the readings carry the trace through Kafka to QuestDB and MongoDB (docs/tracing.md); an invalid one starts a new trace',
    ),
  tracestate: z.string().optional().describe('optional, W3C Trace Context, kept with traceparent'),
});

const Accepted = z.object({
  accepted: z.number().int(),
  ids: z
    .array(z.string())
    .describe(
      "each reading's event id, in order: the client's, else new; with an Idempotency-Key derived from the tenant, key, readings and index, so the same batch sent again has the same ids",
    ),
});

const KEY_CONFLICTS: Record<KeyConflict, () => GridstreamError> = {
  'idempotency-key-reused': () =>
    new GridstreamError(
      'REFUSED',
      'this Idempotency-Key was used for other readings; use a new key for a new batch',
      {
        reason: 'idempotency-key-reused',
        issues: [
          { in: 'headers', path: IDEMPOTENCY_HEADER, message: 'already used for other readings' },
        ],
      },
    ),
  'idempotency-key-in-progress': () =>
    new GridstreamError(
      'CONFLICT',
      `a request with this Idempotency-Key is publishing the batch now; retry after retry-after (a claim that is not redeemed ends after ${KEY_CLAIM_MS / 1000} s)`,
      { reason: 'idempotency-key-in-progress' },
    ),
};

export const readingRoutes: FastifyPluginAsyncZod<{
  ingest: ReadingIngest;
  metrics: ApiMetrics;
  /** Batches this process holds at once at most (GS_API_INGEST_MAX_IN_FLIGHT). */
  maxInFlight: number;
}> = async (app, { ingest, metrics, maxInFlight }) => {
  // This route's body stays raw bytes: it is parsed and checked against ReadingBatch where it is
  // published (an ingest worker thread), so a batch does not hold the event loop that answers
  // queries. The schema still describes the body in the OpenAPI document.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  const limit = new InFlightLimit(maxInFlight);
  /** Each admitted request's slot, and whether its handler has taken it over. */
  const slots = new WeakMap<FastifyRequest, { slot: InFlightSlot; handled: boolean }>();
  /** A request that never reached the handler (body too large, aborted upload) gives its slot back. */
  const releaseUnhandled = async (request: FastifyRequest) => {
    const held = slots.get(request);
    if (held !== undefined && !held.handled) held.slot.release();
  };
  app.post(
    '/v1/readings',
    {
      bodyLimit: 2 * 1024 * 1024,
      config: { scope: 'ingest' },
      schema: {
        headers: ReadingHeaders,
        body: ReadingBatch,
        response: {
          202: Accepted,
          409: ErrorBodySchema.describe(
            'CONFLICT idempotency-key-in-progress: a request with this Idempotency-Key is publishing its batch; retry after `retry-after`',
          ),
          422: ErrorBodySchema.describe(
            'REFUSED idempotency-key-reused: the Idempotency-Key was used for other readings',
          ),
          503: ErrorBodySchema.describe(
            `OVERLOADED: the API process holds GS_API_INGEST_MAX_IN_FLIGHT batches (the body was not read); DEPENDENCY_UNAVAILABLE: Kafka or MongoDB did not answer. Either way retry after \`retry-after\``,
          ),
        },
      },
      // The body is checked in the ingest worker; the headers here, as every route's are.
      validatorCompiler: (route) =>
        route.httpPart === 'body'
          ? (body: unknown) => ({ value: body })
          : // Fastify types a route's compiler input with the whole schema; it gets one part's.
            zodValidatorCompiler(route as unknown as Parameters<typeof zodValidatorCompiler>[0]),
      // After authentication and the rate limit, before the body is read: a shed batch costs
      // neither its upload's memory nor its parse.
      preParsing: async (request, reply, payload) => {
        const slot = limit.tryTake();
        if (slot === undefined) {
          metrics.shedIngestBatches.inc();
          return reply
            .code(503)
            .header('retry-after', String(RETRY_AFTER_S))
            .send({
              code: 'OVERLOADED',
              message: `this API process is handling ${limit.max} batches; retry in ${RETRY_AFTER_S} s`,
              reason: 'overloaded',
            } satisfies ErrorBody);
        }
        metrics.ingestBatchesInFlight.inc();
        slots.set(request, {
          slot: {
            release: () => {
              slot.release();
              metrics.ingestBatchesInFlight.set(limit.inFlight);
            },
          },
          handled: false,
        });
        return payload;
      },
      onResponse: releaseUnhandled,
      onRequestAbort: releaseUnhandled,
    },
    async (request, reply) => {
      const held = slots.get(request);
      if (held !== undefined) held.handled = true;
      // Undefined with tracing off: then the request's traceparent is not even read.
      const span = startIngestSpan(request.headers);
      let failure: unknown;
      try {
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
        const key = request.headers[IDEMPOTENCY_HEADER];
        const outcome = await ingest.submit(tenant, body, key, span?.headers);
        if (!outcome.ok) {
          if ('keyConflict' in outcome) {
            if (outcome.keyConflict === 'idempotency-key-in-progress')
              void reply.header('retry-after', String(RETRY_AFTER_S));
            throw KEY_CONFLICTS[outcome.keyConflict]();
          }
          const { message } = validationError('body', outcome);
          // A body that is not JSON at all has a message and no field to name.
          throw new GridstreamError(
            'VALIDATION',
            message,
            outcome.issues.length > 0 ? { issues: outcome.issues } : undefined,
          );
        }
        if (outcome.replayed) metrics.replayedIngestBatches.inc();
        else metrics.ingestedReadings.inc(outcome.ids.length);
        if (key !== undefined) void reply.header('idempotent-replayed', String(outcome.replayed));
        return await reply.code(202).send({ accepted: outcome.ids.length, ids: [...outcome.ids] });
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        held?.slot.release();
        span?.end(
          failure === undefined ? 202 : failure instanceof GridstreamError ? failure.status : 500,
          failure,
        );
      }
    },
  );
};
