import type { Collection, Db } from 'mongodb';
import type { Refusal } from '@gridstream/commands';
import type { RegistryEvent } from './decide.ts';
import type { DeviceFacts, SiteFacts } from './decide.ts';

/**
 * The registry's write side keeps its own facts, one document per site and device, changed
 * only by compare-and-set on `version`: two requests racing on one entity are judged one after
 * the other, and a request sees every change the API accepted before it (the read models
 * follow Kafka a moment later). Entities registered straight on Kafka are not here; the write
 * side falls back to the read models for them.
 */
export const REGISTRY_FACTS_COLLECTION = 'registry_facts';
export const REGISTRY_KEYS_COLLECTION = 'registry_idempotency_keys';

export type EntityKind = 'site' | 'device';

type FactsOf<K extends EntityKind> = K extends 'site' ? SiteFacts : DeviceFacts;

export interface FactsDocument<K extends EntityKind = EntityKind> {
  readonly _id: string;
  readonly tenant: string;
  readonly kind: K;
  readonly id: string;
  readonly facts: FactsOf<K>;
  readonly version: number;
}

/** What a registry command came to, as answered to the client and replayed for its key. */
export type RegistryOutcome =
  | {
      readonly outcome: 'changed' | 'unchanged';
      readonly kind: EntityKind;
      readonly id: string;
      /** The event it made (changed only). */
      readonly event?: RegistryEvent | undefined;
      /** The entity as it is after the command. */
      readonly facts?: SiteFacts | DeviceFacts | undefined;
    }
  | {
      readonly outcome: 'refused';
      readonly kind: EntityKind;
      readonly id: string;
      readonly refusal: Refusal;
    };

export interface KeyDocument {
  readonly _id: string;
  readonly tenant: string;
  readonly fingerprint: string;
  readonly outcomes: readonly RegistryOutcome[];
  readonly published: boolean;
}

const factsId = (tenant: string, kind: EntityKind, id: string) => `${tenant}/${kind}/${id}`;
const keyId = (tenant: string, key: string) => `${tenant}/${key}`;
const isDuplicate = (error: unknown) => (error as { code?: unknown }).code === 11000;
/** JSON drops undefined fields, which the driver would otherwise store as null. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export interface RegistryStore {
  facts<K extends EntityKind>(
    tenant: string,
    kind: K,
    id: string,
  ): Promise<FactsDocument<K> | undefined>;
  /** Device ids the write side knows in service on a site. */
  activeDeviceIds(tenant: string, siteId: string): Promise<string[]>;
  /**
   * Writes an entity's facts if its version is still `expectedVersion` (0: it has no document
   * yet). False when another request changed it first.
   */
  compareAndSet<K extends EntityKind>(
    tenant: string,
    kind: K,
    id: string,
    facts: FactsOf<K> | undefined,
    expectedVersion: number,
  ): Promise<boolean>;
  findKey(tenant: string, key: string): Promise<KeyDocument | undefined>;
  /**
   * Puts an entity's facts back as they were before a change whose event could not be
   * published, if nothing changed it since (`version` is the change's).
   */
  revert<K extends EntityKind>(
    tenant: string,
    kind: K,
    id: string,
    previous: FactsOf<K> | undefined,
    version: number,
  ): Promise<void>;
  /** False when the key has a record already. */
  insertKey(
    tenant: string,
    key: string,
    fingerprint: string,
    outcomes: readonly RegistryOutcome[],
  ): Promise<boolean>;
  markPublished(tenant: string, key: string): Promise<void>;
  deleteKey(tenant: string, key: string): Promise<void>;
}

export async function openRegistryStore(db: Db): Promise<RegistryStore> {
  const facts: Collection<FactsDocument> = db.collection(REGISTRY_FACTS_COLLECTION);
  const keys: Collection<KeyDocument> = db.collection(REGISTRY_KEYS_COLLECTION);
  await facts.createIndex({ tenant: 1, kind: 1, 'facts.siteId': 1 });
  return {
    async facts<K extends EntityKind>(tenant: string, kind: K, id: string) {
      const document = await facts.findOne({ _id: factsId(tenant, kind, id) });
      return (document ?? undefined) as FactsDocument<K> | undefined;
    },
    async activeDeviceIds(tenant, siteId) {
      const documents = await facts
        .find({ tenant, kind: 'device', 'facts.siteId': siteId, 'facts.status': 'active' })
        .project<{ id: string }>({ id: 1 })
        .toArray();
      return documents.map((d) => d.id);
    },
    async compareAndSet(tenant, kind, id, next, expectedVersion) {
      const _id = factsId(tenant, kind, id);
      if (next === undefined) return true;
      if (expectedVersion === 0) {
        try {
          await facts.insertOne({ _id, tenant, kind, id, facts: plain(next), version: 1 });
          return true;
        } catch (error) {
          if (isDuplicate(error)) return false;
          throw error;
        }
      }
      const updated = await facts.updateOne(
        { _id, version: expectedVersion },
        { $set: { facts: plain(next), version: expectedVersion + 1 } },
      );
      return updated.matchedCount === 1;
    },
    async revert(tenant, kind, id, previous, version) {
      const _id = factsId(tenant, kind, id);
      if (previous === undefined) await facts.deleteOne({ _id, version });
      else
        await facts.updateOne(
          { _id, version },
          { $set: { facts: plain(previous), version: version + 1 } },
        );
    },
    async findKey(tenant, key) {
      return (await keys.findOne({ _id: keyId(tenant, key) })) ?? undefined;
    },
    async insertKey(tenant, key, fingerprint, outcomes) {
      try {
        await keys.insertOne({
          _id: keyId(tenant, key),
          tenant,
          fingerprint,
          outcomes: plain(outcomes),
          published: !outcomes.some((o) => o.outcome === 'changed'),
        });
        return true;
      } catch (error) {
        if (isDuplicate(error)) return false;
        throw error;
      }
    },
    async markPublished(tenant, key) {
      await keys.updateOne({ _id: keyId(tenant, key) }, { $set: { published: true } });
    },
    async deleteKey(tenant, key) {
      await keys.deleteOne({ _id: keyId(tenant, key) });
    },
  };
}
