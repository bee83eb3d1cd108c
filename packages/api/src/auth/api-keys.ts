import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Scope } from './scopes.ts';

export const API_KEYS_COLLECTION = 'api_keys';

/** Who a request is: the key's id, the one tenant it is bound to, and what it may do. */
export interface ApiPrincipal {
  readonly keyId: string;
  readonly tenant: string;
  readonly scopes: readonly Scope[];
}

/** A stored key: never the key itself, only its SHA-256. */
export interface ApiKeyRecord extends ApiPrincipal {
  readonly name: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

interface ApiKeyDocument {
  _id: string;
  tenant: string;
  scopes: Scope[];
  name: string;
  sha256: string;
  createdAt: string;
  revokedAt?: string;
}

/** `gs_<12 hex id>_<43 base64url characters>`: the id finds the record, the secret proves it. */
const KEY_PATTERN = /^gs_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

/**
 * SHA-256, not a slow password hash: the secret is 256 random bits, so there is no dictionary
 * to try and nothing for key stretching to protect, while every request has to check its key.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function present(document: ApiKeyDocument): ApiKeyRecord {
  return {
    keyId: document._id,
    tenant: document.tenant,
    scopes: document.scopes,
    name: document.name,
    createdAt: document.createdAt,
    ...(document.revokedAt === undefined ? {} : { revokedAt: document.revokedAt }),
  };
}

/**
 * The API keys, in MongoDB. A verified key is remembered for `cacheMs`, so a revocation takes
 * effect on a running API within that time, and a request costs no database round trip.
 */
export class ApiKeyStore {
  readonly #keys: Collection<ApiKeyDocument>;
  readonly #cacheMs: number;
  readonly #verified = new Map<string, { principal: ApiPrincipal | undefined; until: number }>();

  private constructor(keys: Collection<ApiKeyDocument>, cacheMs: number) {
    this.#keys = keys;
    this.#cacheMs = cacheMs;
  }

  static async open(db: Db, options: { cacheMs?: number } = {}): Promise<ApiKeyStore> {
    const keys = db.collection<ApiKeyDocument>(API_KEYS_COLLECTION);
    await keys.createIndex({ tenant: 1 });
    return new ApiKeyStore(keys, options.cacheMs ?? 5_000);
  }

  /** Makes a key; the returned `key` is shown once and is not stored anywhere. */
  async create(request: {
    tenant: string;
    scopes: readonly Scope[];
    name?: string;
    now?: Date;
  }): Promise<{ key: string; record: ApiKeyRecord }> {
    const keyId = randomBytes(6).toString('hex');
    const key = `gs_${keyId}_${randomBytes(32).toString('base64url')}`;
    const document: ApiKeyDocument = {
      _id: keyId,
      tenant: request.tenant,
      scopes: [...new Set(request.scopes)],
      name: request.name ?? '',
      sha256: hashApiKey(key),
      createdAt: (request.now ?? new Date()).toISOString(),
    };
    await this.#keys.insertOne(document);
    return { key, record: present(document) };
  }

  async list(tenant?: string): Promise<ApiKeyRecord[]> {
    const documents = await this.#keys
      .find(tenant === undefined ? {} : { tenant })
      .sort({ createdAt: 1 })
      .toArray();
    return documents.map(present);
  }

  /** Revokes a key by id; false when there is no such key or it was revoked already. */
  async revoke(keyId: string, now = new Date()): Promise<boolean> {
    const result = await this.#keys.updateOne(
      { _id: keyId, revokedAt: { $exists: false } },
      { $set: { revokedAt: now.toISOString() } },
    );
    this.#verified.clear();
    return result.modifiedCount === 1;
  }

  /** The principal of a live key; undefined for a malformed, unknown or revoked one. */
  async verify(key: string, nowMs = Date.now()): Promise<ApiPrincipal | undefined> {
    const match = KEY_PATTERN.exec(key);
    const keyId = match?.[1];
    if (keyId === undefined) return undefined;
    const sha256 = hashApiKey(key);
    const cached = this.#verified.get(sha256);
    if (cached !== undefined && nowMs < cached.until) return cached.principal;
    const document = await this.#keys.findOne({ _id: keyId });
    const valid =
      document !== null &&
      document.revokedAt === undefined &&
      timingSafeEqual(Buffer.from(document.sha256, 'hex'), Buffer.from(sha256, 'hex'));
    const principal = valid
      ? { keyId: document._id, tenant: document.tenant, scopes: document.scopes }
      : undefined;
    // Bounded: a flood of made-up keys must not grow the cache without limit.
    if (this.#verified.size > 10_000) this.#verified.clear();
    this.#verified.set(sha256, { principal, until: nowMs + this.#cacheMs });
    return principal;
  }
}
