import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import type { ProcessorEvent } from './command-saga.ts';
import type { DeviceCommandsDocument, DeviceCommandsWrite } from './plan.ts';

/** The command processor's state: one document per device (plan.ts). */
export const COMMAND_SAGAS_COLLECTION = 'command_sagas';

export type DeviceCommandsCollection = Collection<DeviceCommandsDocument>;

export async function openDeviceCommands(db: Db): Promise<DeviceCommandsCollection> {
  const collection = db.collection<DeviceCommandsDocument>(COMMAND_SAGAS_COLLECTION);
  await collection.createIndex({ dueAtMs: 1 });
  await collection.createIndex({ hasOutbox: 1 });
  return collection;
}

export async function loadDeviceCommands(
  collection: DeviceCommandsCollection,
  ids: readonly string[],
): Promise<Map<string, DeviceCommandsDocument>> {
  if (ids.length === 0) return new Map();
  const filter = { _id: { $in: [...ids] } } as Filter<DeviceCommandsDocument>;
  return new Map((await collection.find(filter).toArray()).map((d) => [d._id, d]));
}

/** JSON drops undefined fields, which the driver would otherwise store as null. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * One unordered bulk write, each document guarded by its version (inserted when new). False
 * when another writer changed or created one since it was read: the caller re-reads and re-plans.
 */
export async function writeDeviceCommands(
  collection: DeviceCommandsCollection,
  writes: readonly DeviceCommandsWrite[],
): Promise<boolean> {
  if (writes.length === 0) return true;
  const operations: AnyBulkWriteOperation<DeviceCommandsDocument>[] = writes.map((w) => {
    const document: DeviceCommandsDocument = {
      _id: w.id,
      state: plain(w.state),
      _meta: { version: (w.before?._meta.version ?? 0) + 1, positions: w.positions },
      outbox: plain(w.outbox),
      hasOutbox: w.outbox.length > 0,
      dueAtMs: w.dueAtMs,
    };
    return w.before === undefined
      ? { insertOne: { document } }
      : {
          replaceOne: {
            filter: { _id: w.id, '_meta.version': w.before._meta.version },
            replacement: document,
          },
        };
  });
  const result = await collection
    .bulkWrite(operations, { ordered: false })
    .catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 11000) return undefined;
      throw error;
    });
  return result !== undefined && result.insertedCount + result.matchedCount === operations.length;
}

/**
 * Empties the outboxes just published, each only if the document is still the version whose
 * outbox that was; otherwise its next writer publishes it again (same ids: harmless).
 */
export async function clearOutboxes(
  collection: DeviceCommandsCollection,
  published: readonly { id: string; version: number }[],
): Promise<void> {
  if (published.length === 0) return;
  await collection.bulkWrite(
    published.map(({ id, version }) => ({
      updateOne: {
        filter: { _id: id, '_meta.version': version },
        update: { $set: { outbox: [] as ProcessorEvent[], hasOutbox: false } },
      },
    })),
    { ordered: false },
  );
}

/** Devices whose saga needs the clock by `nowMs`, or whose outbox is not yet published. */
export async function dueDeviceIds(
  collection: DeviceCommandsCollection,
  nowMs: number,
  limit: number,
  /** This instance's partitions: a device's events all come from one partition number. */
  partitions: readonly number[],
): Promise<string[]> {
  if (partitions.length === 0) return [];
  const mine = { '_meta.positions.partition': { $in: [...partitions] } };
  const [due, unpublished] = await Promise.all([
    collection
      .find({ dueAtMs: { $lte: nowMs }, ...mine }, { projection: { _id: 1 } })
      .sort({ dueAtMs: 1 })
      .limit(limit)
      .toArray(),
    collection
      .find({ hasOutbox: true, ...mine }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray(),
  ]);
  return [...new Set([...due, ...unpublished].map((d) => d._id))];
}
