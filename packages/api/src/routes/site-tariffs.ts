import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { refusalError } from '@gridstream/commands';
import { EntityId, EventType, tariffVersionSchema, utcInstantSchema } from '@gridstream/events';
import type { TariffVersion } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { findSite } from '@gridstream/projection-devices';
import { RunRegistryCommands } from '@gridstream/registry';
import type { RegistryOutcome, SiteFacts } from '@gridstream/registry';
import type { ApiDependencies } from '../dependencies.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { ErrorBodySchema } from '../errors.ts';
import { IDEMPOTENCY_HEADER, Outcome, RegistryHeaders, actorOf } from './registry.ts';

const IdParams = z.object({ id: EntityId });

/**
 * A tariff version as an owner publishes it: the event's schema (with the field paths of its
 * checks: a time-of-use week or year not covered once, a cap below its floor ...), `publishedAt`
 * optional (then: when the registry accepted it).
 */
const TariffBody = z.strictObject({
  ...tariffVersionSchema.shape,
  publishedAt: utcInstantSchema
    .optional()
    .describe('when it was published (UTC); default: when the registry accepts it'),
});

const TariffAnswer = z.object({
  outcome: Outcome,
  replayed: z.boolean(),
  eventId: z.string().optional().describe('the event published (changed only)'),
  siteId: z.string(),
  tariff: tariffVersionSchema.describe('the version as published (the first, if unchanged)'),
});

const TariffList = z.object({
  siteId: z.string(),
  currency: z.string().nullable().describe("the currency of the site's tariff; null before one"),
  tariffs: z
    .array(
      tariffVersionSchema.extend({
        supersededBy: z
          .string()
          .optional()
          .describe('a later publication with the same effectiveFrom, which is in force instead'),
      }),
    )
    .describe('every version published, by effectiveFrom, then publishedAt and id'),
});

/** The id of the version that holds each version's slot, where that is another one. */
function supersededBy(tariffs: readonly TariffVersion[]): Map<string, string> {
  // sorted by effectiveFrom then publication: the last of a slot holds it
  const holder = new Map<number, string>();
  for (const version of tariffs) holder.set(Date.parse(version.effectiveFrom), version.id);
  const superseded = new Map<string, string>();
  for (const version of tariffs) {
    const held = holder.get(Date.parse(version.effectiveFrom));
    if (held !== undefined && held !== version.id) superseded.set(version.id, held);
  }
  return superseded;
}

/**
 * A site's tariff versions: published through the registry's CommandBus (decide refuses a second
 * currency, an id reused for other content and a closed site), listed from the sites read model.
 */
export const siteTariffRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.post(
    '/v1/sites/:id/tariffs',
    {
      config: { scope: 'manage' },
      schema: {
        headers: RegistryHeaders,
        params: IdParams,
        body: TariffBody,
        response: {
          200: TariffAnswer.describe('the same version (id and content) was published before'),
          201: TariffAnswer,
          404: ErrorBodySchema.describe('NOT_FOUND: no site by that id'),
          409: ErrorBodySchema.describe(
            "CONFLICT: a currency other than the site's tariff's, the id published with other content, a closed site, or the Idempotency-Key used for another body",
          ),
        },
      },
    },
    async (request, reply) => {
      const siteId = request.params.id;
      const key = (request.headers as Record<string, string | undefined>)[IDEMPOTENCY_HEADER];
      const { outcomes, replayed } = await deps.registryBus.execute(
        new RunRegistryCommands(
          tenantOf(request),
          actorOf(request),
          [{ type: 'publish-tariff', siteId, tariff: request.body }],
          key,
        ),
      );
      const [outcome] = outcomes as [RegistryOutcome];
      if (outcome.outcome === 'refused') throw refusalError(outcome.refusal);
      const published =
        outcome.event?.type === EventType.siteTariffPublished
          ? outcome.event.data.tariff
          : (outcome.facts as SiteFacts | undefined)?.tariffs?.find(
              (version) => version.id === request.body.id,
            );
      if (published === undefined)
        throw new Error(`tariff version ${request.body.id} of site ${siteId} not in the outcome`);
      return reply
        .code(outcome.outcome === 'changed' ? 201 : 200)
        .header('idempotent-replayed', String(replayed))
        .send({
          outcome: outcome.outcome,
          replayed,
          ...(outcome.event === undefined ? {} : { eventId: outcome.event.id }),
          siteId,
          tariff: published,
        });
    },
  );

  app.get(
    '/v1/sites/:id/tariffs',
    {
      config: { scope: 'read' },
      schema: { params: IdParams, response: { 200: TariffList } },
    },
    async (request) => {
      const site = await findSite(
        await deps.sites.collection(),
        tenantOf(request),
        request.params.id,
      );
      if (site === undefined)
        throw new GridstreamError('NOT_FOUND', `no site ${request.params.id}`);
      const tariffs = site.tariffs ?? [];
      const superseded = supersededBy(tariffs);
      return {
        siteId: site.siteId,
        currency: tariffs[0]?.currency ?? null,
        tariffs: tariffs.map((version) => {
          const by = superseded.get(version.id);
          return by === undefined ? version : { ...version, supersededBy: by };
        }),
      };
    },
  );
};
