import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { refusalError } from '@gridstream/commands';
import { localDate } from '@gridstream/energy-core';
import {
  CarbonZone,
  DeviceRole,
  EntityId,
  PhysicalLimit,
  Timestamp,
  SiteLocation,
  SiteName,
} from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { concernsSite, findSite, findSites } from '@gridstream/projection-devices';
import type { SiteView } from '@gridstream/projection-devices';
import { readDeviceEvents } from '@gridstream/questdb';
import { DeviceRegistrationRequest, RunRegistryCommands } from '@gridstream/registry';
import type { RegistryCommand, RegistryOutcome } from '@gridstream/registry';
import type { ApiDependencies } from '../dependencies.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { ErrorBodySchema } from '../errors.ts';
import { TimeZone } from './time-range.ts';

export const MAX_REGISTRATIONS_PER_BATCH = 1000;
const MAX_SITES_PER_PAGE = 500;
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export const RegistryHeaders = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe(
      'optional: the same key and body answer the first answer again; another body is 409 idempotency-key-reused',
    ),
});

const Reason = z.strictObject({ reason: z.string().max(500).optional() }).nullish();

const SiteBody = z.strictObject({
  siteId: EntityId,
  name: SiteName,
  timeZone: TimeZone.describe('IANA time zone of the site, fixed at registration'),
  location: SiteLocation.optional(),
  carbonZone: CarbonZone.optional().describe(
    'the zone of the grid carbon-intensity series its import is counted against, e.g. DE',
  ),
});

const SitePatch = z
  .strictObject({
    name: SiteName.optional(),
    location: SiteLocation.nullable().optional(),
    carbonZone: CarbonZone.nullable().optional().describe('null removes it'),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'name, location or carbonZone',
  })
  .meta({ minProperties: 1 });

const DeviceBody = DeviceRegistrationRequest;

const DevicePatch = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    role: DeviceRole.optional(),
    ratedPowerW: z.number().positive().max(PhysicalLimit.powerW).optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'name, role or ratedPowerW',
  })
  .meta({ minProperties: 1 });

const MoveBody = z.strictObject({
  toSiteId: EntityId,
  effectiveAt: Timestamp.optional().describe(
    "from when its energy is the new site's (default now); at most 31 days back, not ahead of the clock",
  ),
});

export const Outcome = z
  .enum(['changed', 'unchanged'])
  .describe('changed: an event was published; unchanged: it was so already, nothing published');

const SiteResponse = z.looseObject({
  siteId: z.string(),
  name: z.string(),
  timeZone: z.string(),
  carbonZone: z.string().optional().describe('the zone of its carbon-intensity series'),
  status: z.enum(['open', 'closed']),
});
const RegistryAnswer = z.object({
  outcome: Outcome,
  replayed: z.boolean(),
  eventId: z.string().optional().describe('the event published (changed only)'),
  site: SiteResponse.optional(),
  device: z.looseObject({ deviceId: z.string(), status: z.string() }).optional(),
});

const BatchBody = z.strictObject({
  devices: z.array(z.unknown()).min(1).max(MAX_REGISTRATIONS_PER_BATCH),
});
const BatchResponse = z.object({
  replayed: z.boolean(),
  registered: z.number().int(),
  unchanged: z.number().int(),
  refused: z.number().int(),
  results: z.array(
    z.object({
      index: z.number().int(),
      deviceId: z.string().optional(),
      outcome: z.enum(['changed', 'unchanged', 'refused']),
      error: z
        .object({
          code: z.string(),
          reason: z.string(),
          message: z.string(),
          issues: z.array(z.looseObject({ path: z.string(), message: z.string() })).optional(),
        })
        .optional(),
    }),
  ),
});

const SiteListQuery = z.object({
  status: z.enum(['open', 'closed']).optional(),
  cursor: z
    .string()
    .max(400)
    .regex(/^[A-Za-z0-9_-]+$/, 'nextCursor of the page before')
    .optional()
    .describe('`nextCursor` of the page before'),
  limit: z.coerce.number().int().min(1).max(MAX_SITES_PER_PAGE).default(100),
});

const SitePage = z.object({
  nextCursor: z.string().optional(),
  sites: z.array(
    SiteResponse.extend({
      activeDevices: z.number().int().describe('devices in service on the site'),
      today: z
        .looseObject({ date: z.string() })
        .optional()
        .describe("the site's energy on its local today, so far"),
    }),
  ),
});

const HistoryResponse = z.object({
  siteId: z.string(),
  events: z.array(
    z.looseObject({
      id: z.string(),
      type: z.string(),
      time: z.string(),
      actor: z.string().optional().describe('who made the change'),
    }),
  ),
});

// any cursor of the documented form is a place in the order of ids: a page, not an error
const encodeCursor = (siteId: string) => Buffer.from(siteId).toString('base64url');
const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString();

/** Who acts: the API key that authenticated the request, never a field of the body. */
export const actorOf = (request: FastifyRequest) => `key:${request.principal?.keyId ?? 'unknown'}`;

/**
 * The registry: sites and devices registered, changed, closed, decommissioned and restored by
 * their owners. Every change goes through the registry's CommandBus (packages/registry: the
 * write side's facts, a pure decide, one event on Kafka); reads come from the read models.
 */
export const registryRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  const run = async (
    request: FastifyRequest,
    commands: RegistryCommand[],
    asSent: unknown = commands,
  ) => {
    const key = (request.headers as Record<string, string | undefined>)[IDEMPOTENCY_HEADER];
    return deps.registryBus.execute(
      new RunRegistryCommands(tenantOf(request), actorOf(request), commands, key, asSent),
    );
  };

  /** One command's answer: 201 for a new registration, 200 otherwise; a refusal is an error. */
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    command: RegistryCommand,
    created = false,
    asSent: unknown = [command],
  ) => {
    const { outcomes, replayed } = await run(request, [command], asSent);
    const [outcome] = outcomes as [RegistryOutcome];
    if (outcome.outcome === 'refused') throw refusalError(outcome.refusal);
    // a site's tariff versions are answered at …/tariffs, not with every change of the site
    const { tariffs: _tariffs, ...entity } = (outcome.facts ?? {}) as { tariffs?: unknown };
    return reply
      .code(created && outcome.outcome === 'changed' ? 201 : 200)
      .header('idempotent-replayed', String(replayed))
      .send({
        outcome: outcome.outcome,
        replayed,
        ...(outcome.event === undefined ? {} : { eventId: outcome.event.id }),
        ...(outcome.kind === 'site' ? { site: entity } : { device: entity }),
      });
  };

  const manage = (params?: z.ZodType, body?: z.ZodType, created = false) => ({
    config: { scope: 'manage' as const },
    schema: {
      headers: RegistryHeaders,
      ...(params === undefined ? {} : { params }),
      ...(body === undefined ? {} : { body }),
      response: {
        200: RegistryAnswer,
        ...(created ? { 201: RegistryAnswer } : {}),
        404: ErrorBodySchema.describe('NOT_FOUND: no site or device by an id of the path or body'),
        409: ErrorBodySchema.describe(
          'CONFLICT: the id is taken with other attributes, the site is closed or has devices in service, or the Idempotency-Key was used for another body',
        ),
      },
    },
  });
  const IdParams = z.object({ id: EntityId });

  app.post('/v1/sites', manage(undefined, SiteBody, true), async (request, reply) => {
    const body = request.body as z.infer<typeof SiteBody>;
    return answer(request, reply, { type: 'register-site', ...body }, true);
  });
  app.patch('/v1/sites/:id', manage(IdParams, SitePatch), async (request, reply) => {
    const body = request.body as z.infer<typeof SitePatch>;
    const { id } = request.params as z.infer<typeof IdParams>;
    return answer(request, reply, { type: 'update-site', siteId: id, ...body });
  });
  for (const [path, type] of [
    ['close', 'close-site'],
    ['reopen', 'reopen-site'],
  ] as const)
    app.post(`/v1/sites/:id/${path}`, manage(IdParams, Reason), async (request, reply) => {
      const { id } = request.params as z.infer<typeof IdParams>;
      const reason = (request.body as z.infer<typeof Reason>)?.reason;
      return answer(request, reply, { type, siteId: id, reason });
    });

  app.post('/v1/devices', manage(undefined, DeviceBody, true), async (request, reply) => {
    const body = request.body as z.infer<typeof DeviceBody>;
    return answer(request, reply, { type: 'register-device', ...body }, true);
  });
  app.patch('/v1/devices/:id', manage(IdParams, DevicePatch), async (request, reply) => {
    const body = request.body as z.infer<typeof DevicePatch>;
    const { id } = request.params as z.infer<typeof IdParams>;
    return answer(request, reply, { type: 'update-device', deviceId: id, ...body });
  });
  for (const [path, type] of [
    ['decommission', 'decommission-device'],
    ['restore', 'restore-device'],
  ] as const)
    app.post(`/v1/devices/:id/${path}`, manage(IdParams, Reason), async (request, reply) => {
      const { id } = request.params as z.infer<typeof IdParams>;
      const reason = (request.body as z.infer<typeof Reason>)?.reason;
      return answer(request, reply, { type, deviceId: id, reason });
    });

  app.post('/v1/devices/:id/move', manage(IdParams, MoveBody), async (request, reply) => {
    const { id } = request.params as z.infer<typeof IdParams>;
    const { toSiteId, effectiveAt } = request.body as z.infer<typeof MoveBody>;
    const command = { type: 'move-device', deviceId: id, toSiteId } as const;
    // Without effectiveAt the move takes effect now; a retry with the same Idempotency-Key is
    // the same request (the key is held to what was sent), and answers the first move again.
    return answer(
      request,
      reply,
      { ...command, effectiveAt: effectiveAt ?? deps.now().toISOString() },
      false,
      [{ ...command, effectiveAt: effectiveAt ?? null }],
    );
  });

  app.post(
    '/v1/devices/batch',
    {
      config: { scope: 'manage' },
      schema: {
        headers: RegistryHeaders,
        body: BatchBody,
        response: {
          200: BatchResponse,
          409: ErrorBodySchema.describe('CONFLICT: the Idempotency-Key was used for another body'),
        },
      },
    },
    async (request, reply) => {
      // each registration is checked on its own: one bad line refuses that line, not the batch
      const results: z.infer<typeof BatchResponse>['results'] = [];
      const commands: RegistryCommand[] = [];
      const indexes: number[] = [];
      request.body.devices.forEach((item, index) => {
        const parsed = DeviceBody.safeParse(item);
        if (parsed.success) {
          commands.push({ type: 'register-device', ...parsed.data });
          indexes.push(index);
          return;
        }
        const deviceId = (item as { deviceId?: unknown } | null)?.deviceId;
        results.push({
          index,
          ...(typeof deviceId === 'string' ? { deviceId } : {}),
          outcome: 'refused',
          error: {
            code: 'VALIDATION',
            reason: 'invalid-registration',
            message: 'the registration does not fit the schema',
            issues: parsed.error.issues.map((issue) => ({
              path: ['devices', index, ...issue.path].join('.'),
              message: issue.message,
            })),
          },
        });
      });
      const { outcomes, replayed } =
        commands.length === 0 ? { outcomes: [], replayed: false } : await run(request, commands);
      outcomes.forEach((outcome, i) => {
        const index = indexes[i] ?? -1;
        results.push(
          outcome.outcome === 'refused'
            ? {
                index,
                deviceId: outcome.id,
                outcome: 'refused',
                error: {
                  code: outcome.refusal.code,
                  reason: outcome.refusal.reason,
                  message: outcome.refusal.message,
                  ...(outcome.refusal.issues === undefined
                    ? {}
                    : {
                        issues: outcome.refusal.issues.map((issue) => ({
                          path: issue.path,
                          message: issue.message,
                        })),
                      }),
                },
              }
            : { index, deviceId: outcome.id, outcome: outcome.outcome },
        );
      });
      results.sort((a, b) => a.index - b.index);
      const count = (what: string) => results.filter((r) => r.outcome === what).length;
      return reply.header('idempotent-replayed', String(replayed)).send({
        replayed,
        registered: count('changed'),
        unchanged: count('unchanged'),
        refused: count('refused'),
        results,
      });
    },
  );

  app.get(
    '/v1/sites',
    {
      config: { scope: 'read' },
      schema: { querystring: SiteListQuery, response: { 200: SitePage } },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const { cursor, status, limit } = request.query;
      const sites = await findSites(await deps.sites.collection(), {
        tenant,
        status,
        afterSiteId: cursor === undefined ? undefined : decodeCursor(cursor),
        limit,
      });
      const counts = await activeDeviceCounts(
        deps,
        tenant,
        sites.map((s) => s.siteId),
      );
      const today = await todaysEnergy(deps, tenant, sites);
      const last = sites.at(-1);
      return {
        ...(last !== undefined && sites.length === limit
          ? { nextCursor: encodeCursor(last.siteId) }
          : {}),
        sites: sites.map((site) => {
          const day = today.get(site.siteId);
          return {
            ...present(site),
            activeDevices: counts.get(site.siteId) ?? 0,
            ...(day === undefined ? {} : { today: day }),
          };
        }),
      };
    },
  );

  app.get(
    '/v1/sites/:id',
    {
      config: { scope: 'read' },
      schema: { params: IdParams, response: { 200: SitePage.shape.sites.element } },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const site = await findSite(await deps.sites.collection(), tenant, request.params.id);
      if (site === undefined)
        throw new GridstreamError('NOT_FOUND', `no site ${request.params.id}`);
      const counts = await activeDeviceCounts(deps, tenant, [site.siteId]);
      const day = (await todaysEnergy(deps, tenant, [site])).get(site.siteId);
      return {
        ...present(site),
        activeDevices: counts.get(site.siteId) ?? 0,
        ...(day === undefined ? {} : { today: day }),
      };
    },
  );

  app.get(
    '/v1/sites/:id/history',
    {
      config: { scope: 'read' },
      schema: {
        params: IdParams,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
        }),
        response: { 200: HistoryResponse },
      },
    },
    async (request) => {
      const events = await readDeviceEvents(deps.questdb, deps.eventsTable, {
        tenant: tenantOf(request),
        deviceId: request.params.id,
        fromMs: 0,
        toMs: deps.now().getTime() + 60_000,
        limit: request.query.limit,
      });
      return {
        siteId: request.params.id,
        events: events.filter(concernsSite).map((event) => ({
          ...event,
          ...actorField(event.data),
        })),
      };
    },
  );
};

const actorField = (data: unknown) => {
  const actor = (data as { actor?: unknown } | null)?.actor;
  return typeof actor === 'string' ? { actor } : {};
};

/** A site as the API shows it (its tenant is the caller's; its tariff at …/tariffs). */
function present(site: SiteView) {
  const { tenant: _tenant, tariffs: _tariffs, ...rest } = site;
  return rest;
}

/** Devices in service per site, from the devices read model. */
async function activeDeviceCounts(
  deps: ApiDependencies,
  tenant: string,
  siteIds: readonly string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (siteIds.length === 0) return counts;
  const rows = await (
    await deps.devices.collection()
  )
    .aggregate<{ _id: string; n: number }>([
      {
        $match: {
          'state.tenant': tenant,
          'state.siteId': { $in: [...siteIds] },
          'state.status': 'active',
        },
      },
      { $group: { _id: '$state.siteId', n: { $sum: 1 } } },
    ])
    .toArray();
  for (const row of rows) counts.set(row._id, row.n);
  return counts;
}

/** Each site's energy on its local today, from the site-energy read model. */
async function todaysEnergy(
  deps: ApiDependencies,
  tenant: string,
  sites: readonly SiteView[],
): Promise<Map<string, Record<string, unknown> & { date: string }>> {
  const nowMs = deps.now().getTime();
  const ids = sites.map((site) => `${tenant}/${site.siteId}/${localDate(nowMs, site.timeZone)}`);
  const days = new Map<string, Record<string, unknown> & { date: string }>();
  if (ids.length === 0) return days;
  const documents = await (
    await deps.siteEnergy.collection()
  )
    .find({ _id: { $in: ids } })
    .toArray();
  for (const { state } of documents)
    days.set(state.siteId, { date: state.date, timeZone: state.timeZone, ...state.totals });
  return days;
}
