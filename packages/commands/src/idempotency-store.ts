import type { Collection, Db } from 'mongodb';
import type { IdempotencyStore, StoredIdempotencyRecord } from './command-bus.ts';

/** One document per tenant and Idempotency-Key: the request's fingerprint and the command it made. */
export const IDEMPOTENCY_COLLECTION = 'command_idempotency_keys';

export interface IdempotencyDocument extends StoredIdempotencyRecord {
  readonly _id: string;
  readonly tenant: string;
  readonly commandId: string;
}

/** Tenant first; a tenant id has no `/`, so the key after it may contain anything. */
const keyId = (tenant: string, idempotencyKey: string) => `${tenant}/${idempotencyKey}`;

export async function openIdempotencyStore(db: Db): Promise<
  IdempotencyStore & {
    /**
     * The request that made a command, for cancelling before the read model has it; only once
     * published: a request recorded but never published made no command, and a cancellation
     * accepted for it would be lost.
     */
    findByCommand(tenant: string, commandId: string): Promise<IdempotencyDocument | undefined>;
  }
> {
  const collection: Collection<IdempotencyDocument> = db.collection(IDEMPOTENCY_COLLECTION);
  await collection.createIndex({ tenant: 1, commandId: 1 });
  return {
    async find(tenant, idempotencyKey) {
      return (await collection.findOne({ _id: keyId(tenant, idempotencyKey) })) ?? undefined;
    },
    async insert(tenant, idempotencyKey, record, publishingUntilMs) {
      try {
        await collection.insertOne({
          _id: keyId(tenant, idempotencyKey),
          tenant,
          commandId: record.event.data.commandId,
          fingerprint: record.fingerprint,
          // JSON drops undefined fields, which the driver would otherwise store as null.
          event: JSON.parse(JSON.stringify(record.event)) as typeof record.event,
          published: false,
          publishingUntilMs,
        });
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === 11000) return false;
        throw error;
      }
    },
    async markPublished(tenant, idempotencyKey) {
      await collection.updateOne(
        { _id: keyId(tenant, idempotencyKey) },
        { $set: { published: true } },
      );
    },
    async claimPublish(tenant, idempotencyKey, nowMs, untilMs) {
      // One conditional update: of racing claimants one matches (FerretDB as patched applies
      // one update statement of a collection at a time). A record from before claims has none.
      const claimed = await collection.updateOne(
        {
          _id: keyId(tenant, idempotencyKey),
          published: false,
          $or: [{ publishingUntilMs: { $exists: false } }, { publishingUntilMs: { $lte: nowMs } }],
        },
        { $set: { publishingUntilMs: untilMs } },
      );
      return claimed.modifiedCount === 1;
    },
    async findByCommand(tenant, commandId) {
      return (await collection.findOne({ tenant, commandId, published: true })) ?? undefined;
    },
  };
}
