import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EntityId } from '@gridstream/events';
import { tenantOf } from '../auth/authenticate.ts';
import { LIVE_KINDS, matches } from '../live/live-feed.ts';
import type { LiveEvent, LiveFeed, LiveFilter, LiveKind } from '../live/live-feed.ts';

/** A comment line this often keeps proxies from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

const StreamQuery = z.object({
  kinds: z
    .string()
    .regex(
      /^(reading|command|alert)(,(reading|command|alert))*$/,
      'reading, command, alert, comma separated',
    )
    .optional()
    .describe('what to send (default all): reading, command, alert, comma separated'),
  siteId: EntityId.optional(),
  deviceId: EntityId.optional(),
});

const StreamHeaders = z.object({
  'last-event-id': z
    .string()
    .max(100)
    .optional()
    .describe('the id of the last event received: what came after it is sent first'),
});

/** The `data` of a reading, command or alert event: the CloudEvent as JSON, without its tenant. */
const liveData = (kind: LiveKind) =>
  z.object({
    id: z.string(),
    type: z
      .string()
      .regex(new RegExp(`^gridstream\\.${kind}\\.`))
      .describe(`gridstream.${kind}.*`),
    source: z.string(),
    subject: z.string().describe('the device id'),
    time: z.string().describe('ISO 8601'),
    data: z.looseObject({}).describe("the event's payload (docs/events.md)"),
  });

/** An SSE `data` field holding JSON of this schema (contentMediaType and contentSchema). */
function jsonText(schema: z.ZodType) {
  const { $schema: _dialect, ...contentSchema } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
  });
  return z.string().meta({ contentMediaType: 'application/json', contentSchema });
}

const liveEvent = <Kind extends LiveKind>(kind: Kind) =>
  z.object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9]+-[0-9]+$/)
      .describe('<feed epoch>-<sequence>: what Last-Event-ID resumes from'),
    event: z.literal(kind),
    data: jsonText(liveData(kind)),
  });

/**
 * One event of the stream, as its SSE fields (`id`, `event`, `data`), `data` being JSON. The
 * document describes each event (OpenAPI 3.1 reads the schema of text/event-stream so); the
 * stream also sends a `retry:` line and heartbeat comments, which are no events.
 */
export const StreamEvent = z.discriminatedUnion('event', [
  liveEvent('reading'),
  liveEvent('command'),
  liveEvent('alert'),
  z
    .object({
      id: z.string().optional().describe('the id of the event before, if any'),
      event: z.literal('reset'),
      data: jsonText(z.object({ reason: z.enum(['unknown-epoch', 'too-old', 'malformed']) })),
    })
    .describe(
      'first, when Last-Event-ID names what the feed no longer has: reload state with the queries',
    ),
]);

function frame(event: LiveEvent): string | undefined {
  const data = event.data();
  return data === undefined
    ? undefined
    : `id: ${event.id}\nevent: ${event.kind}\ndata: ${data}\n\n`;
}

/**
 * Server-sent events of the key's tenant: readings, command updates and alerts, filtered by
 * site or device. A reconnect with Last-Event-ID gets what it missed from the feed's buffer;
 * when that is no longer there (the API restarted, or the gap is too long) the stream starts
 * with a `reset` event, and the client reloads its state with the queries.
 */
export const streamRoutes: FastifyPluginAsyncZod<{ feed: LiveFeed }> = async (app, { feed }) => {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });
  app.get(
    '/v1/stream',
    {
      config: { scope: 'read' },
      schema: {
        querystring: StreamQuery,
        headers: StreamHeaders,
        produces: ['text/event-stream'],
        response: {
          200: StreamEvent.describe(
            'text/event-stream, never ending: the schema is of each event; a heartbeat comment every 15 s',
          ),
        },
      },
    },
    async (request, reply) => {
      const kinds = (request.query.kinds?.split(',') ?? LIVE_KINDS) as readonly LiveKind[];
      const filter: LiveFilter = {
        tenant: tenantOf(request),
        kinds,
        siteId: request.query.siteId,
        deviceId: request.query.deviceId,
      };
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(`retry: 2000\n\n`);
      // Listening before the backlog is read: nothing pushed in between is lost, and the
      // sequence numbers drop anything sent twice.
      let sentSeq = 0;
      const send = (event: LiveEvent) => {
        if (event.seq <= sentSeq || !matches(filter, event)) return;
        sentSeq = event.seq;
        const text = frame(event);
        if (text !== undefined) raw.write(text);
      };
      const stopListening = feed.listen(send);
      const lastEventId = request.headers['last-event-id'];
      if (lastEventId !== undefined) {
        const resume = feed.since(lastEventId);
        if (resume.ok) for (const event of resume.events) send(event);
        else raw.write(`event: reset\ndata: ${JSON.stringify({ reason: resume.reason })}\n\n`);
      }
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const end = () => {
        clearInterval(heartbeat);
        stopListening();
        open.delete(end);
        raw.end();
      };
      open.add(end);
      request.raw.once('close', end);
    },
  );
};
