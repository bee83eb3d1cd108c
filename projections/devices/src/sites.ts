import type { Collection } from 'mongodb';
import { EventType, isSiteEvent } from '@gridstream/events';
import type { GridstreamEvent, SiteLocation } from '@gridstream/events';
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
  readonly status: 'open' | 'closed';
  readonly registeredAt: string;
  /** The last change of any kind, and who made it (absent for events without an actor). */
  readonly changedAt: string;
  readonly changedBy?: string;
  readonly closedAt?: string;
  readonly reopenedAt?: string;
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
      const { siteId, name, timeZone, location, actor } = event.data;
      if (state !== null) return state;
      return {
        tenant: event.tenant,
        siteId,
        name,
        timeZone,
        ...(location === undefined ? {} : { location }),
        status: 'open',
        registeredAt: at,
        ...stamp(actor),
      };
    }
    case EventType.siteUpdated: {
      if (state === null) return state;
      const { name, location, actor } = event.data;
      const { location: previous, changedBy: _by, ...rest } = state;
      const next = location === undefined ? previous : (location ?? undefined);
      return {
        ...rest,
        ...(name === undefined ? {} : { name }),
        ...(next === undefined ? {} : { location: next }),
        ...stamp(actor),
      };
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
    isSiteEvent(event) ? siteDocumentId(event.tenant, event.subject) : undefined,
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
