import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CancelDeviceCommand, RequestDeviceCommand } from '@gridstream/commands';
import { GridstreamError } from '@gridstream/errors';
import {
  CommandAction,
  CommandParameters,
  CommandPriority,
  DeviceKind,
  EntityId,
  Timestamp,
} from '@gridstream/events';
import {
  findCommand,
  findDeviceCommands,
  queryCommandStats,
  COMMAND_STATUSES,
} from '@gridstream/projection-commands';
import type { CommandView } from '@gridstream/projection-commands';
import type { ApiDependencies } from '../dependencies.ts';
import {
  CancellationAcceptedResponse,
  CancellationRefusals,
  CommandAcceptedResponse,
  CommandRequestRefusals,
  CommandResponse,
  CommandsResponse,
  CommandStatsResponse,
} from '../responses.ts';
import { tenantOf } from '../auth/authenticate.ts';
import type { FastifyRequest } from 'fastify';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const MAX_COMMANDS_PER_REQUEST = 1000;
export const MAX_STATS_RANGE_MS = 31 * 24 * 3600_000;
const DEFAULT_STATS_RANGE_MS = 24 * 3600_000;

const CommandStatusParam = z.enum(COMMAND_STATUSES);

/** The body of POST /v1/devices/:id/commands; whether the action suits the device is decided later. */
export const CommandRequestBody = z.strictObject({
  action: z.string().min(1).max(64),
  parameters: CommandParameters.default({}),
  priority: CommandPriority.default('normal'),
  correlationId: z.string().min(1).max(128).optional(),
  expiresAt: Timestamp.optional(),
  // Who asks is the API key that made the request (`requestedBy: key:<id>`), never the body's say.
});

/** The body of a cancellation; none at all is fine (Fastify gives null then). */
const CancelBody = z
  .strictObject({
    reason: z.string().max(500).optional(),
  })
  .nullish();

const CommandHeaders = z.object({
  [IDEMPOTENCY_HEADER]: z.string().min(1).max(255),
});

export const StatsQuery = z
  .object({
    from: Timestamp.optional(),
    to: Timestamp.optional(),
    action: CommandAction.optional(),
    deviceKind: DeviceKind.optional(),
  })
  .refine(
    (q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to),
    { message: 'from must be before to', path: ['from'] },
  );

/** Who asked: the API key that made the request (audit: never taken from the body). */
const keyOf = (request: FastifyRequest) => `key:${request.principal?.keyId ?? 'unknown'}`;

/** The read model's document as clients see it (its ordering aid left out). */
function present(view: CommandView): Omit<CommandView, 'progress'> {
  const { progress: _progress, ...rest } = view;
  return rest;
}

/**
 * Commands: requests and cancellations go through the CommandBus (packages/commands: decide,
 * then publish); reads come from the commands read model.
 */
export const commandRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.post(
    '/v1/devices/:id/commands',
    {
      config: { scope: 'command' },
      schema: {
        headers: CommandHeaders,
        params: z.object({ id: EntityId }),
        body: CommandRequestBody,
        response: { 202: CommandAcceptedResponse, ...CommandRequestRefusals },
      },
    },
    async (request, reply) => {
      const { event, replayed } = await deps.commandBus.execute(
        new RequestDeviceCommand({
          tenant: tenantOf(request),
          deviceId: request.params.id,
          idempotencyKey: request.headers[IDEMPOTENCY_HEADER],
          ...request.body,
          requestedBy: keyOf(request),
        }),
      );
      const { commandId, expiresAt, priority, action, correlationId } = event.data;
      // a replay answers where the command stands now (it may have finished since)
      const status = replayed
        ? ((await findCommand(await deps.commands.collection(), tenantOf(request), commandId))
            ?.status ?? 'requested')
        : 'requested';
      return reply
        .code(202)
        .header('idempotent-replayed', String(replayed))
        .header('location', `/v1/commands/${commandId}`)
        .send({
          commandId,
          status,
          replayed,
          action,
          priority,
          correlationId,
          expiresAt,
        });
    },
  );

  app.get(
    '/v1/devices/:id/commands',
    {
      config: { scope: 'read' },
      schema: {
        params: z.object({ id: EntityId }),
        querystring: z.object({
          status: CommandStatusParam.optional(),
          limit: z.coerce.number().int().min(1).max(MAX_COMMANDS_PER_REQUEST).default(100),
        }),
        response: { 200: CommandsResponse },
      },
    },
    async (request) => {
      const commands = await findDeviceCommands(await deps.commands.collection(), {
        tenant: tenantOf(request),
        deviceId: request.params.id,
        ...request.query,
      });
      return { commands: commands.map(present) };
    },
  );

  app.get(
    '/v1/commands/stats',
    {
      config: { scope: 'read' },
      schema: { querystring: StatsQuery, response: { 200: CommandStatsResponse } },
    },
    async (request) => {
      const { from, to, action, deviceKind } = request.query;
      const toMs = to === undefined ? deps.now().getTime() : Date.parse(to);
      const fromMs = from === undefined ? toMs - DEFAULT_STATS_RANGE_MS : Date.parse(from);
      if (fromMs >= toMs || toMs - fromMs > MAX_STATS_RANGE_MS)
        throw new GridstreamError(
          'VALIDATION',
          'the range must be non-empty and span at most 31 days',
          {
            issues: [
              {
                in: 'querystring',
                path: 'from',
                message: 'before to, and at most 31 days before it',
              },
            ],
          },
        );
      const range = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
      const stats = await queryCommandStats(await deps.commands.collection(), {
        tenant: tenantOf(request),
        ...range,
        action,
        deviceKind,
      });
      return { ...range, ...stats };
    },
  );

  app.get(
    '/v1/commands/:id',
    {
      config: { scope: 'read' },
      schema: { params: z.object({ id: EntityId }), response: { 200: CommandResponse } },
    },
    async (request) => {
      const command = await findCommand(
        await deps.commands.collection(),
        tenantOf(request),
        request.params.id,
      );
      if (command === undefined)
        throw new GridstreamError('NOT_FOUND', `no command ${request.params.id}`);
      return present(command);
    },
  );

  app.post(
    '/v1/commands/:id/cancel',
    {
      config: { scope: 'command' },
      schema: {
        params: z.object({ id: EntityId }),
        body: CancelBody,
        response: { 202: CancellationAcceptedResponse, ...CancellationRefusals },
      },
    },
    async (request, reply) => {
      const reason = request.body?.reason;
      const requestedBy = keyOf(request);
      const event = await deps.commandBus.execute(
        new CancelDeviceCommand({
          tenant: tenantOf(request),
          commandId: request.params.id,
          requestedBy,
          reason,
        }),
      );
      return reply
        .code(202)
        .send({ commandId: event.data.commandId, status: 'cancellation-requested' });
    },
  );
};
