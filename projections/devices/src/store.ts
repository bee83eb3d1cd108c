import type { Collection, Db } from 'mongodb';
import { applyPositionedBatch } from '@gridstream/mongo';
import type { PositionedChange, StoredDocument } from '@gridstream/mongo';
import type { GridstreamEvent } from '@gridstream/events';
import type { PositionedEvent } from '@gridstream/kafka';
import { evolveDevice } from './evolve.ts';
import type { DeviceView } from './evolve.ts';

/** The projection's version is part of its collection name, so a rebuild can run beside it. */
export const DEVICES_PROJECTION = { name: 'devices', version: 1 } as const;

export type DeviceDocument = StoredDocument<DeviceView>;

/** Tenant first: device ids are only unique within a tenant. `/` cannot occur in either. */
export function deviceDocumentId(tenant: string, deviceId: string): string {
  return `${tenant}/${deviceId}`;
}

export function devicesCollection(db: Db, collectionPrefix = ''): Collection<DeviceDocument> {
  return db.collection<DeviceDocument>(
    `${collectionPrefix}${DEVICES_PROJECTION.name}_v${DEVICES_PROJECTION.version}`,
  );
}

export async function ensureDeviceIndexes(collection: Collection<DeviceDocument>): Promise<void> {
  await collection.createIndex({ 'state.tenant': 1, 'state.siteId': 1 });
}

export async function applyDeviceEvents(
  collection: Collection<DeviceDocument>,
  events: readonly PositionedEvent[],
): Promise<void> {
  const changes: PositionedChange<GridstreamEvent>[] = events.map(
    ({ event, topic, partition, offset }) => ({
      documentId: deviceDocumentId(event.tenant, event.subject),
      position: { topic, partition, offset },
      input: event,
    }),
  );
  await applyPositionedBatch(collection, changes, evolveDevice);
}

export async function findDevice(
  collection: Collection<DeviceDocument>,
  tenant: string,
  deviceId: string,
): Promise<DeviceView | undefined> {
  const document = await collection.findOne({ _id: deviceDocumentId(tenant, deviceId) });
  return document?.state ?? undefined;
}
