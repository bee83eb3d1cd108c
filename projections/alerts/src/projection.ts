import type { Collection, Filter } from 'mongodb';
import type { AlertKind } from '@gridstream/events';
import type { StoredDocument } from '@gridstream/mongo';
import type { ProjectionDefinition } from '@gridstream/projection';
import { alertDocumentId, evolveAlert } from './evolve.ts';
import type { AlertStatus, AlertView } from './evolve.ts';

export type AlertDocument = StoredDocument<AlertView>;

/** One document per alert, from the alerts topic. */
export const alertsProjection: ProjectionDefinition<AlertView> = {
  name: 'alerts',
  version: 1,
  topics: ['alerts'],
  documentId: alertDocumentId,
  evolve: evolveAlert,
  indexes: [
    { key: { 'state.tenant': 1, 'state.raisedAt': -1 } },
    { key: { 'state.tenant': 1, 'state.status': 1, 'state.raisedAt': -1 } },
    { key: { 'state.tenant': 1, 'state.deviceId': 1, 'state.raisedAt': -1 } },
    { key: { 'state.tenant': 1, 'state.siteId': 1, 'state.raisedAt': -1 } },
  ],
  // An alert is one device's: its raised and cleared events both carry the device as their
  // subject and key (processors/alerts, alert-events.ts), so a rebuild may fold it in parts.
  parts: { module: import.meta.url, exportName: 'alertsProjection' },
};

export interface AlertQuery {
  readonly tenant: string;
  readonly status?: AlertStatus;
  readonly siteId?: string;
  readonly deviceId?: string;
  readonly kind?: AlertKind;
  readonly limit: number;
}

/** A tenant's alerts matching every given filter, newest raised first. */
export async function findAlerts(
  collection: Collection<AlertDocument>,
  query: AlertQuery,
): Promise<AlertView[]> {
  const filter: Record<string, string> = { 'state.tenant': query.tenant };
  if (query.status !== undefined) filter['state.status'] = query.status;
  if (query.siteId !== undefined) filter['state.siteId'] = query.siteId;
  if (query.deviceId !== undefined) filter['state.deviceId'] = query.deviceId;
  if (query.kind !== undefined) filter['state.kind'] = query.kind;
  const documents = await collection
    .find(filter as Filter<AlertDocument>)
    .sort({ 'state.raisedAt': -1, _id: 1 })
    .limit(query.limit)
    .toArray();
  return documents.map((d) => d.state);
}
