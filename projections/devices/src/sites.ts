import type { Collection } from 'mongodb';
import { EventType, isSiteEvent } from '@gridstream/events';
import type { GridstreamEvent, SiteLocation, TariffVersion } from '@gridstream/events';
import type { StoredDocument } from '@gridstream/mongo';
import type { ProjectionDefinition } from '@gridstream/projection';
import { isoUtc } from './evolve.ts';

/** One site as dashboards read it. Times are RFC 3339 strings in UTC. */
export interface SiteView {
  readonly tenant: string;
  readonly siteId: string;
  readonly name: string;
  readonly timeZone: string;
  readonly location?: SiteLocation;
  /** The zone of the carbon-intensity series its import is counted against. */
  readonly carbonZone?: string;
  readonly status: 'open' | 'closed';
  readonly registeredAt: string;
  /** The last change of any kind, and who made it (absent for events without an actor). */
  readonly changedAt: string;
  readonly changedBy?: string;
  readonly closedAt?: string;
  readonly reopenedAt?: string;
  /**
   * Every tariff version published for it, in the order they take effect (effectiveFrom, then
   * publishedAt and id: of two versions of one slot, the one in force is last).
   */
  readonly tariffs?: readonly TariffVersion[];
}

const byTakingEffect = (a: TariffVersion, b: TariffVersion) =>
  Date.parse(a.effectiveFrom) - Date.parse(b.effectiveFrom) ||
  Date.parse(a.publishedAt) - Date.parse(b.publishedAt) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The versions with one more, in the order they take effect. An id already there changes
 * nothing: the registry refuses other content under a known id, so the first stands (and an
 * event applied twice is applied once). The registry's facts fold them the same way
 * (packages/registry, withTariffVersion; decide.unit.spec.ts checks they agree).
 */
function withTariffVersion(
  tariffs: readonly TariffVersion[],
  version: TariffVersion,
): readonly TariffVersion[] {
  if (tariffs.some((known) => known.id === version.id)) return tariffs;
  return [...tariffs, version].sort(byTakingEffect);
}

/** Events about a site: its registry events and its tariff versions (subject: the site id). */
export function concernsSite(event: { readonly type: string }): boolean {
  return isSiteEvent(event);
}

/**
 * Folds a site's registry events (pure). A change of a site never registered is left out: the
 * write side refuses it, so only a producer writing straight to Kafka can make one.
 */
export function evolveSite(state: SiteView | null, event: GridstreamEvent): SiteView | null {
  const at = isoUtc(event.time);
  const stamp = (actor: string | undefined) => ({
    changedAt: at,
    ...(actor === undefined ? {} : { changedBy: actor }),
  });
  switch (event.type) {
    case EventType.siteRegistered: {
      const { siteId, name, timeZone, location, carbonZone, actor } = event.data;
      if (state !== null) return state;
      return {
        tenant: event.tenant,
        siteId,
        name,
        timeZone,
        ...(location === undefined ? {} : { location }),
        ...(carbonZone === undefined ? {} : { carbonZone }),
        status: 'open',
        registeredAt: at,
        ...stamp(actor),
      };
    }
    case EventType.siteUpdated: {
      if (state === null) return state;
      const { name, location, carbonZone, actor } = event.data;
      const { location: previous, carbonZone: previousZone, changedBy: _by, ...rest } = state;
      const next = location === undefined ? previous : (location ?? undefined);
      const nextZone = carbonZone === undefined ? previousZone : (carbonZone ?? undefined);
      return {
        ...rest,
        ...(name === undefined ? {} : { name }),
        ...(next === undefined ? {} : { location: next }),
        ...(nextZone === undefined ? {} : { carbonZone: nextZone }),
        ...stamp(actor),
      };
    }
    case EventType.siteTariffPublished: {
      if (state === null) return state;
      const tariffs = withTariffVersion(state.tariffs ?? [], event.data.tariff);
      if (tariffs === state.tariffs) return state;
      const { changedBy: _by, ...rest } = state;
      return { ...rest, tariffs, ...stamp(event.data.actor) };
    }
    case EventType.siteClosed: {
      if (state === null) return state;
      const { changedBy: _by, ...rest } = state;
      return { ...rest, status: 'closed', closedAt: at, ...stamp(event.data.actor) };
    }
    case EventType.siteReopened: {
      if (state === null) return state;
      const { changedBy: _by, ...rest } = state;
      return { ...rest, status: 'open', reopenedAt: at, ...stamp(event.data.actor) };
    }
    default:
      return state;
  }
}

export type SiteDocument = StoredDocument<SiteView>;

export const siteDocumentId = (tenant: string, siteId: string) => `${tenant}/${siteId}`;

/** The sites read model: one document per site, from the site events on the devices topic. */
export const sitesProjection: ProjectionDefinition<SiteView> = {
  name: 'sites',
  version: 1,
  topics: ['devices'],
  documentId: (event) =>
    concernsSite(event) ? siteDocumentId(event.tenant, event.subject) : undefined,
  evolve: evolveSite,
  indexes: [{ key: { 'state.tenant': 1, 'state.status': 1 } }],
};

export async function findSite(
  collection: Collection<SiteDocument>,
  tenant: string,
  siteId: string,
): Promise<SiteView | undefined> {
  const document = await collection.findOne({ _id: siteDocumentId(tenant, siteId) });
  return document?.state ?? undefined;
}

export interface SiteListQuery {
  readonly tenant: string;
  readonly status?: 'open' | 'closed' | undefined;
  /** Only sites whose id sorts after this one: the cursor of the page before. */
  readonly afterSiteId?: string | undefined;
  readonly limit: number;
}

/** A tenant's sites, ordered by site id (the document id: a page is an index range). */
export async function findSites(
  collection: Collection<SiteDocument>,
  query: SiteListQuery,
): Promise<SiteView[]> {
  const documents = await collection
    .find({
      'state.tenant': query.tenant,
      _id: {
        $gt:
          query.afterSiteId === undefined
            ? `${query.tenant}/`
            : siteDocumentId(query.tenant, query.afterSiteId),
        $lt: `${query.tenant}0`,
      },
      ...(query.status === undefined ? {} : { 'state.status': query.status }),
    })
    .sort({ _id: 1 })
    .limit(query.limit)
    .toArray();
  return documents.map((document) => document.state);
}
