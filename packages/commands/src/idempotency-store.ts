import type { Collection, Db } from 'mongodb';
import type { IdempotencyStore, StoredIdempotencyRecord } from './command-bus.ts';
import {
  idempotencyRecordId as keyId,
  insertIdempotencyRecord,
  markIdempotencyRecordPublished,
  takeOverPublishClaim,
} from './idempotency.ts';
import type { IdempotencyRecordBase } from './idempotency.ts';

/** One document per tenant and Idempotency-Key: the request's fingerprint and the command it made. */
export const IDEMPOTENCY_COLLECTION = 'command_idempotency_keys';

export interface IdempotencyDocument extends StoredIdempotencyRecord, IdempotencyRecordBase {
  readonly commandId: string;
}

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
    insert: (tenant, idempotencyKey, record, publishingUntilMs) =>
      insertIdempotencyRecord(collection, {
        _id: keyId(tenant, idempotencyKey),
        tenant,
        commandId: record.event.data.commandId,
        fingerprint: record.fingerprint,
        // JSON drops undefined fields, which the driver would otherwise store as null.
        event: JSON.parse(JSON.stringify(record.event)) as typeof record.event,
        published: false,
        publishingUntilMs,
      }),
    markPublished: (tenant, idempotencyKey) =>
      markIdempotencyRecordPublished(collection, keyId(tenant, idempotencyKey)),
    claimPublish: (tenant, idempotencyKey, nowMs, untilMs) =>
      takeOverPublishClaim(collection, keyId(tenant, idempotencyKey), nowMs, untilMs),
    async findByCommand(tenant, commandId) {
      return (await collection.findOne({ tenant, commandId, published: true })) ?? undefined;
    },
  };
}
