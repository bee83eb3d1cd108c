// The Idempotency-Key of POST /v1/readings, pure: what a batch's fingerprint and event ids are,
// and what a request does given the key's record. The record's storage is reading-keys.ts.
import { v5 as uuidv5 } from 'uuid';
import { IDEMPOTENCY_KEY_RETENTION_MS } from '@gridstream/config';
import { requestFingerprint } from '@gridstream/commands/idempotency';
import type { BatchReading } from './reading-batch.ts';

/** Namespace of the event ids of keyed batches (a fixed random UUID; never change it). */
const KEYED_READING_NAMESPACE = '86287daf-75af-4916-88d9-5ed8441bff39';

/**
 * How long a request holds its claim on a key while it publishes: a twin racing it is answered
 * 409 meanwhile, and once it has run out unredeemed (the API died after claiming) a retry takes
 * the key over. A publish is acknowledged in milliseconds; one stuck longer than this may be
 * published twice, with the same ids, which downstream counts once.
 */
export const KEY_CLAIM_MS = 10_000;
/**
 * How long a key's record is kept: within it the same key answers the first answer again
 * (declared with every other retention in @gridstream/config's retention.ts).
 */
export const KEY_TTL_MS = IDEMPOTENCY_KEY_RETENTION_MS.readings;

/**
 * The batch's content by value: each reading's payload, its time as an instant (UTC) and the
 * client's id if it gave one. Whitespace, key order, number spelling (`5`, `5.0`, `5e0`), a
 * time's offset (`…T13:00:00+01:00` is `…T12:00:00Z`) and defaults spelled out or left to the
 * schema do not change it; the order of the readings does.
 */
export function batchFingerprint(readings: readonly BatchReading[]): string {
  return requestFingerprint(readings.map(({ id, time, data }) => ({ id, time, data })));
}

/**
 * The id of the reading at `index` of a keyed batch the client gave no id: a name-based UUID
 * (v5) of the tenant, the key, the batch's fingerprint and the index, so the same batch sent
 * again under its key (a retry, or a take-over after a crash) names the same events, and a key
 * used again for other readings once its record expired does not name them as the old ones.
 */
export function keyedReadingId(
  tenant: string,
  idempotencyKey: string,
  fingerprint: string,
  index: number,
): string {
  return uuidv5(`${tenant}\n${idempotencyKey}\n${fingerprint}\n${index}`, KEYED_READING_NAMESPACE);
}

/** What a key's record says, as far as the decision goes. */
export interface KeyRecordState {
  readonly fingerprint: string;
  readonly published: boolean;
  /** While unpublished: until when the request publishing it holds the claim. */
  readonly publishingUntilMs?: number | undefined;
  readonly expiresAtMs: number;
}

/**
 * What a request does with a key that has a record already:
 * - `replay`: the same batch, published: answer its ids again, publish nothing;
 * - `reused`: another batch under this key: 422;
 * - `in-progress`: the same batch, claimed by a request still publishing it: 409, retry;
 * - `take-over`: the same batch, whose claim ran out unpublished (its request died): claim it
 *   and publish it (the same ids);
 * - `expired`: a record past its time to live: as if there were none.
 */
export type KeyStep = 'replay' | 'reused' | 'in-progress' | 'take-over' | 'expired';

export function decideKeyStep(record: KeyRecordState, fingerprint: string, nowMs: number): KeyStep {
  if (record.expiresAtMs <= nowMs) return 'expired';
  if (record.fingerprint !== fingerprint) return 'reused';
  if (record.published) return 'replay';
  return (record.publishingUntilMs ?? 0) <= nowMs ? 'take-over' : 'in-progress';
}
