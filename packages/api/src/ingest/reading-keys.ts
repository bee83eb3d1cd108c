// Where POST /v1/readings keeps its Idempotency-Keys: MongoDB, one record per tenant and key,
// through the helpers every keyed route shares (@gridstream/commands/idempotency).
import type { Collection, Db } from 'mongodb';
import {
  idempotencyRecordId as keyId,
  insertIdempotencyRecord,
  markIdempotencyRecordPublished,
  takeOverPublishClaim,
} from '@gridstream/commands/idempotency';
import type { IdempotencyRecordBase } from '@gridstream/commands/idempotency';
import { decideKeyStep, KEY_CLAIM_MS, KEY_TTL_MS } from './keyed-batch.ts';
import type { KeyRecordState } from './keyed-batch.ts';

export const READING_KEYS_COLLECTION = 'reading_idempotency_keys';

export interface ReadingKeyDocument extends IdempotencyRecordBase {
  /** Readings in the batch (its ids follow from the key and the batch: keyed-batch.ts). */
  readonly accepted: number;
  readonly createdAt: Date;
  /** When the record may go: a TTL index on MongoDB, the API's sweep on FerretDB 1.x. */
  readonly expiresAt: Date;
}

/** What a request may do with its batch under a key. */
export type KeyClaim =
  | { readonly kind: 'publish' }
  | { readonly kind: 'replay' }
  | { readonly kind: 'reused' }
  | { readonly kind: 'in-progress' };

export interface ReadingKeyStore {
  /** Claims the key for this batch, or says why not (claimKey: insert first, then decide). */
  claim(tenant: string, key: string, fingerprint: string, accepted: number): Promise<KeyClaim>;
  /** Kafka has the batch: the key answers it from now on. */
  markPublished(tenant: string, key: string): Promise<void>;
  /** Publishing failed: the claim ends now, so a retry of the same batch takes it over at once. */
  release(tenant: string, key: string): Promise<void>;
}

const stateOf = (record: ReadingKeyDocument): KeyRecordState => ({
  fingerprint: record.fingerprint,
  published: record.published,
  publishingUntilMs: record.publishingUntilMs,
  expiresAtMs: record.expiresAt.getTime(),
});

/** The key store on `db` (indexes are made once by prepareReadingKeys, not by every worker). */
export function readingKeyStore(db: Db, nowMs: () => number = Date.now): ReadingKeyStore {
  const keys: Collection<ReadingKeyDocument> = db.collection(READING_KEYS_COLLECTION);
  const record = (tenant: string, key: string, fingerprint: string, accepted: number) => {
    const atMs = nowMs();
    return {
      _id: keyId(tenant, key),
      tenant,
      fingerprint,
      accepted,
      published: false,
      publishingUntilMs: atMs + KEY_CLAIM_MS,
      createdAt: new Date(atMs),
      expiresAt: new Date(atMs + KEY_TTL_MS),
    };
  };
  return {
    async claim(tenant, key, fingerprint, accepted) {
      // Insert first: a new key, the common case, costs one round trip.
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await insertIdempotencyRecord(keys, record(tenant, key, fingerprint, accepted)))
          return { kind: 'publish' };
        const found = await keys.findOne({ _id: keyId(tenant, key) });
        if (found === null) continue; // swept away between the two
        const atMs = nowMs();
        const step = decideKeyStep(stateOf(found), fingerprint, atMs);
        if (step === 'replay' || step === 'reused' || step === 'in-progress') return { kind: step };
        const claimed =
          step === 'take-over'
            ? await takeOverPublishClaim(keys, found._id, atMs, atMs + KEY_CLAIM_MS, {
                fingerprint,
              })
            : // expired: replaced only if still the record read (an expiry as read)
              (
                await keys.replaceOne(
                  { _id: found._id, expiresAt: found.expiresAt },
                  record(tenant, key, fingerprint, accepted),
                )
              ).modifiedCount === 1;
        if (claimed) return { kind: 'publish' };
        // another request claimed it first: look again
      }
      return { kind: 'in-progress' };
    },
    markPublished: (tenant, key) => markIdempotencyRecordPublished(keys, keyId(tenant, key)),
    async release(tenant, key) {
      await keys.updateOne(
        { _id: keyId(tenant, key), published: false },
        { $set: { publishingUntilMs: 0 } },
      );
    },
  };
}

/** How expired records leave: MongoDB's TTL monitor, or the API's own sweep where there is none. */
export type KeyExpiry = 'ttl-index' | 'sweep';

/** How often the sweep deletes expired records (FerretDB 1.x has no TTL indexes). */
export const KEY_SWEEP_INTERVAL_MS = 10 * 60_000;
/**
 * Records one delete of the sweep removes at most: a day's keys go in many short writes rather
 * than one long one that keys being claimed meanwhile would wait behind.
 */
export const KEY_SWEEP_BATCH = 1_000;

/**
 * Makes the collection's indexes: a TTL index on `expiresAt` where the server has them
 * (MongoDB); FerretDB 1.24 answers "Index option expireAfterSeconds is not implemented yet"
 * (code 238), so there a plain index serves a sweep this process runs every
 * KEY_SWEEP_INTERVAL_MS, KEY_SWEEP_BATCH records a delete. Expiry does not depend on either: a
 * record past `expiresAt` counts as none (decideKeyStep), so they only bound the collection's
 * size (docs/data-lifecycle.md).
 */
export async function prepareReadingKeys(
  db: Db,
  log: (line: string) => void,
  nowMs: () => number = Date.now,
): Promise<{ readonly expiry: KeyExpiry; sweep(): Promise<number>; stop(): void }> {
  const keys: Collection<ReadingKeyDocument> = db.collection(READING_KEYS_COLLECTION);
  const sweep = async () => {
    const expired = { expiresAt: { $lte: new Date(nowMs()) } };
    let deleted = 0;
    for (;;) {
      const ids = (
        await keys
          .find(expired, { projection: { _id: 1 } })
          .sort({ expiresAt: 1 })
          .limit(KEY_SWEEP_BATCH)
          .toArray()
      ).map((record) => record._id);
      if (ids.length > 0)
        deleted += (await keys.deleteMany({ ...expired, _id: { $in: ids } })).deletedCount;
      if (ids.length < KEY_SWEEP_BATCH) return deleted;
    }
  };
  let expiry: KeyExpiry = 'ttl-index';
  try {
    await keys.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 238) throw error;
    expiry = 'sweep';
    await keys.createIndex({ expiresAt: 1 }, { name: 'expiresAt_sweep' });
  }
  if (expiry === 'ttl-index') return { expiry, sweep, stop: () => undefined };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => {
      log(
        `gridstream: sweeping expired reading Idempotency-Keys failed (${String(error)}); next time`,
      );
    });
  }, KEY_SWEEP_INTERVAL_MS).unref();
  return {
    expiry,
    sweep,
    stop: () => {
      clearInterval(timer);
    },
  };
}
