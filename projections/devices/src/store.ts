import type { Collection } from 'mongodb';
import type { StoredDocument } from '@gridstream/mongo';
import type { ProjectionDefinition } from '@gridstream/projection';
import { evolveDevice } from './evolve.ts';
import type { DeviceView } from './evolve.ts';

export type DeviceDocument = StoredDocument<DeviceView>;

/** Tenant first: device ids are only unique within a tenant. `/` cannot occur in either. */
export function deviceDocumentId(tenant: string, deviceId: string): string {
  return `${tenant}/${deviceId}`;
}

/** The devices read model: one document per device, from its registry events and readings. */
export const devicesProjection: ProjectionDefinition<DeviceView> = {
  name: 'devices',
  // Version 2 folds the energy topic too (today's energy).
  version: 2,
  topics: ['devices', 'readings', 'energy'],
  documentId: (event) => deviceDocumentId(event.tenant, event.subject),
  evolve: evolveDevice,
  indexes: [{ key: { 'state.tenant': 1, 'state.siteId': 1 } }],
};

export async function findDevice(
  collection: Collection<DeviceDocument>,
  tenant: string,
  deviceId: string,
): Promise<DeviceView | undefined> {
  const document = await collection.findOne({ _id: deviceDocumentId(tenant, deviceId) });
  return document?.state ?? undefined;
}

/** A tenant's devices (of one site, when named), ordered by device id. */
export async function findDevices(
  collection: Collection<DeviceDocument>,
  query: { tenant: string; siteId?: string | undefined; limit: number },
): Promise<DeviceView[]> {
  const documents = await collection
    .find({
      'state.tenant': query.tenant,
      ...(query.siteId === undefined ? {} : { 'state.siteId': query.siteId }),
    })
    .sort({ _id: 1 })
    .limit(query.limit)
    .toArray();
  return documents.map((document) => document.state);
}
