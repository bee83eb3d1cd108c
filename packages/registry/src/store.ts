import type { Collection, Db } from 'mongodb';
import type { Refusal } from '@gridstream/commands';
import {
  idempotencyRecordId as keyId,
  insertIdempotencyRecord,
  isDuplicateKeyError as isDuplicate,
  markIdempotencyRecordPublished,
} from '@gridstream/commands';
import type { IdempotencyRecordBase } from '@gridstream/commands';
import type { RegistryEvent } from './decide.ts';
import type { DeviceFacts, SiteFacts } from './decide.ts';

/**
 * The registry's write side keeps its own facts, as numbered versions of each site and device:
 * a change inserts version n + 1, and the unique `_id` (entity and version) lets only one of
 * two racing requests insert it, so requests on one entity are judged one after the other and
 * each sees every change the API accepted before it (the read models follow Kafka a moment
 * later). An insert's check and effect are atomic on any server: a version-guarded `updateOne`
 * holds on FerretDB only with our patch (deploy/local/ferretdb/patches; unpatched, eight
 * racing renames made three events), and the versions are the registry's audit trail too.
 * Entities registered straight on Kafka are not here; the write side falls back to the read
 * models for them.
 */
export const REGISTRY_FACTS_COLLECTION = 'registry_facts';
export const REGISTRY_KEYS_COLLECTION = 'registry_idempotency_keys';

export type EntityKind = 'site' | 'device';

type FactsOf<K extends EntityKind> = K extends 'site' ? SiteFacts : DeviceFacts;

export interface FactsDocument<K extends EntityKind = EntityKind> {
  /** `<tenant>/<kind>/<id>#<version>` */
  readonly _id: string;
  readonly tenant: string;
  readonly kind: K;
  readonly id: string;
  /** Null: the entity does not exist (a registration taken back because it was not published). */
  readonly facts: FactsOf<K> | null;
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

export interface KeyDocument extends IdempotencyRecordBase {
  readonly outcomes: readonly RegistryOutcome[];
}

const factsId = (tenant: string, kind: EntityKind, id: string, version: number) =>
  `${tenant}/${kind}/${id}#${version}`;
/** JSON drops undefined fields, which the driver would otherwise store as null. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export interface RegistryStore {
  /** The entity's newest version (`facts` null if it was taken back), or undefined if none. */
  facts<K extends EntityKind>(
    tenant: string,
    kind: K,
    id: string,
  ): Promise<FactsDocument<K> | undefined>;
  /** The newest version of each of the entities that have one, by id (one query). */
  factsMany<K extends EntityKind>(
    tenant: string,
    kind: K,
    ids: readonly string[],
  ): Promise<Map<string, FactsDocument<K>>>;
  /**
   * Inserts each entity's next version (at most one per entity) in one unordered write; returns
   * `<kind>/<id>` of those another request got to first (their version was taken).
   */
  insertVersions(
    tenant: string,
    versions: readonly {
      kind: EntityKind;
      id: string;
      facts: SiteFacts | DeviceFacts;
      version: number;
    }[],
  ): Promise<Set<string>>;
  /** Device ids the write side has known in service on a site (check each one's newest version). */
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
  await facts.createIndex({ tenant: 1, kind: 1, id: 1, version: -1 });
  await facts.createIndex({ tenant: 1, kind: 1, 'facts.siteId': 1 });
  const insertVersion = async <K extends EntityKind>(
    tenant: string,
    kind: K,
    id: string,
    next: FactsOf<K> | null,
    version: number,
  ): Promise<boolean> => {
    try {
      await facts.insertOne({
        _id: factsId(tenant, kind, id, version),
        tenant,
        kind,
        id,
        facts: next === null ? null : plain(next),
        version,
      });
      return true;
    } catch (error) {
      if (isDuplicate(error)) return false;
      throw error;
    }
  };
  return {
    async facts<K extends EntityKind>(tenant: string, kind: K, id: string) {
      const [newest] = await facts
        .find({ tenant, kind, id })
        .sort({ version: -1 })
        .limit(1)
        .toArray();
      return newest as FactsDocument<K> | undefined;
    },
    async factsMany<K extends EntityKind>(tenant: string, kind: K, ids: readonly string[]) {
      const newest = new Map<string, FactsDocument<K>>();
      if (ids.length === 0) return newest;
      const documents = (await facts
        .find({ tenant, kind, id: { $in: [...ids] } })
        .toArray()) as FactsDocument<K>[];
      for (const document of documents) {
        const known = newest.get(document.id);
        if (known === undefined || known.version < document.version)
          newest.set(document.id, document);
      }
      return newest;
    },
    async insertVersions(tenant, versions) {
      const lost = new Set<string>();
      if (versions.length === 0) return lost;
      try {
        await facts.insertMany(
          versions.map(({ kind, id, facts: next, version }) => ({
            _id: factsId(tenant, kind, id, version),
            tenant,
            kind,
            id,
            facts: plain(next),
            version,
          })),
          { ordered: false },
        );
      } catch (error) {
        const errors = (error as { writeErrors?: unknown }).writeErrors;
        const list = (Array.isArray(errors) ? errors : errors === undefined ? [] : [errors]) as {
          index: number;
          code?: number;
        }[];
        if (list.length === 0 || list.some((e) => e.code !== 11000)) throw error;
        for (const { index } of list) {
          const version = versions[index];
          if (version !== undefined) lost.add(`${version.kind}/${version.id}`);
        }
      }
      return lost;
    },
    async activeDeviceIds(tenant, siteId) {
      const documents = await facts
        .find({ tenant, kind: 'device', 'facts.siteId': siteId, 'facts.status': 'active' })
        .project<{ id: string }>({ id: 1 })
        .toArray();
      return [...new Set(documents.map((d) => d.id))];
    },
    async compareAndSet(tenant, kind, id, next, expectedVersion) {
      if (next === undefined) return true;
      return insertVersion(tenant, kind, id, next, expectedVersion + 1);
    },
    async revert(tenant, kind, id, previous, version) {
      // only if nothing changed it since: else the newer change stands
      await insertVersion(tenant, kind, id, previous ?? null, version + 1);
    },
    async findKey(tenant, key) {
      return (await keys.findOne({ _id: keyId(tenant, key) })) ?? undefined;
    },
    insertKey: (tenant, key, fingerprint, outcomes) =>
      insertIdempotencyRecord(keys, {
        _id: keyId(tenant, key),
        tenant,
        fingerprint,
        outcomes: plain(outcomes),
        published: !outcomes.some((o) => o.outcome === 'changed'),
      }),
    markPublished: (tenant, key) => markIdempotencyRecordPublished(keys, keyId(tenant, key)),
    async deleteKey(tenant, key) {
      await keys.deleteOne({ _id: keyId(tenant, key) });
    },
  };
}
