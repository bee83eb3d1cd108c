// What every Idempotency-Key of the API shares (command requests, registry commands, reading
// batches): the fingerprint of a request's content, and the MongoDB record of a key, one
// document per tenant and key, that one request claims by inserting it. Exported alone as
// `@gridstream/commands/idempotency`, so a reading ingest worker thread can use it without
// loading the command write side (Nest).
import type { Collection, Filter, MatchKeysAndValues, OptionalUnlessRequiredId } from 'mongodb';
import { v5 as uuidv5 } from 'uuid';

/** Namespace of request fingerprints (the command namespace: stored fingerprints depend on it). */
const FINGERPRINT_NAMESPACE = 'a3c1f0e6-5f0b-4d5e-9d7e-2b1f7c9e4a11';

/** JSON with object keys sorted, so equal requests give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A fingerprint of a request's content, by value (key order, whitespace and number spelling
 * do not count): a reused key with different content is refused.
 */
export function requestFingerprint(request: unknown): string {
  return uuidv5(canonicalJson(request), FINGERPRINT_NAMESPACE);
}

/** The fields every Idempotency-Key record has, whatever else its route keeps in it. */
export interface IdempotencyRecordBase {
  /** `<tenant>/<key>` (idempotencyRecordId): a key is the tenant's own. */
  readonly _id: string;
  readonly tenant: string;
  readonly fingerprint: string;
  /** False until Kafka acknowledged what the request publishes: a replay then sees it published. */
  readonly published: boolean;
  /** While unpublished: until when the request publishing it holds the claim (absent on older records). */
  readonly publishingUntilMs?: number;
}

/** Tenant first; a tenant id has no `/`, so the key after it may contain anything. */
export const idempotencyRecordId = (tenant: string, idempotencyKey: string): string =>
  `${tenant}/${idempotencyKey}`;

export const isDuplicateKeyError = (error: unknown): boolean =>
  (error as { code?: unknown }).code === 11000;

/** Claims a key by inserting its record; false when the key has one (another request got there first). */
export async function insertIdempotencyRecord<D extends IdempotencyRecordBase>(
  collection: Collection<D>,
  record: OptionalUnlessRequiredId<D>,
): Promise<boolean> {
  try {
    await collection.insertOne(record);
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/**
 * Atomically takes over publishing an unpublished record whose claim ran out by `nowMs` (its
 * maker crashed, or is stuck), until `untilMs`; false when published or claimed by another.
 * One conditional update: of racing claimants one matches (FerretDB as patched applies one
 * update statement of a collection at a time). A record from before claims has none.
 */
export async function takeOverPublishClaim<D extends IdempotencyRecordBase>(
  collection: Collection<D>,
  id: string,
  nowMs: number,
  untilMs: number,
  also: Filter<IdempotencyRecordBase> = {},
): Promise<boolean> {
  const claimed = await collection.updateOne(
    {
      ...also,
      _id: id,
      published: false,
      $or: [{ publishingUntilMs: { $exists: false } }, { publishingUntilMs: { $lte: nowMs } }],
    } as Filter<D>,
    { $set: { publishingUntilMs: untilMs } as MatchKeysAndValues<D> },
  );
  return claimed.modifiedCount === 1;
}

export async function markIdempotencyRecordPublished<D extends IdempotencyRecordBase>(
  collection: Collection<D>,
  id: string,
): Promise<void> {
  await collection.updateOne({ _id: id } as Filter<D>, {
    $set: { published: true } as MatchKeysAndValues<D>,
  });
}
