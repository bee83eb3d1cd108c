import type { Collection, Db, Filter } from 'mongodb';
import { versionedWriteOperation, writeVersioned } from '@gridstream/mongo';
import type { DeviceStateDocument, DeviceStateWrite } from './device-batch.ts';

/** One document per device (`<tenant>/<deviceId>`): what the alert rules remember of it. */
export const ALERT_STATES_COLLECTION = 'alert_device_states';

export type DeviceStateCollection = Collection<DeviceStateDocument>;

export async function openDeviceStates(db: Db): Promise<DeviceStateCollection> {
  const collection = db.collection<DeviceStateDocument>(ALERT_STATES_COLLECTION);
  // The sweep's query: devices it watches, silent since before a cut-off.
  await collection.createIndex({ 'state.watchOffline': 1, 'state.lastReadingMs': 1 });
  return collection;
}

export async function loadDeviceStates(
  collection: DeviceStateCollection,
  ids: readonly string[],
): Promise<Map<string, DeviceStateDocument>> {
  if (ids.length === 0) return new Map();
  const filter = { _id: { $in: [...ids] } } as Filter<DeviceStateDocument>;
  return new Map((await collection.find(filter).toArray()).map((d) => [d._id, d]));
}

/**
 * One bulk write, each document guarded by its version. False when another writer changed a
 * document since it was read (a rebalance, or the sweep): the caller re-reads and re-folds.
 */
export async function writeDeviceStates(
  collection: DeviceStateCollection,
  writes: readonly DeviceStateWrite[],
): Promise<boolean> {
  const operations = writes.map(({ id, before, state, positions }) =>
    // JSON drops undefined fields, which the driver would otherwise store as null.
    versionedWriteOperation(id, before, {
      state: JSON.parse(JSON.stringify(state)) as typeof state,
      positions,
    }),
  );
  return writeVersioned(collection, operations);
}

/**
 * Ids of watched devices whose newest reading is older than `beforeMs`, oldest first, among the
 * devices of `partitions` (those of this instance: a device's events all come from the same
 * partition number of each topic, which its document's positions name).
 */
export async function silentDeviceIds(
  collection: DeviceStateCollection,
  beforeMs: number,
  limit: number,
  partitions: readonly number[],
): Promise<string[]> {
  if (partitions.length === 0) return [];
  const documents = await collection
    .find(
      {
        'state.watchOffline': true,
        'state.lastReadingMs': { $lt: beforeMs },
        '_meta.positions.partition': { $in: [...partitions] },
      } as Filter<DeviceStateDocument>,
      { projection: { _id: 1 } },
    )
    .sort({ 'state.lastReadingMs': 1 })
    .limit(limit)
    .toArray();
  return documents.map((d) => d._id);
}
