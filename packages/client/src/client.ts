import type { z } from 'zod';
import { send } from './http.ts';
import type { Transport } from './http.ts';
import { MAX_READINGS_PER_REQUEST } from './reading-input.ts';
import type { ReadingInput } from './reading-input.ts';
import {
  Device,
  DeviceEnergy,
  DevicePage,
  DeviceReadings,
  ReadingsAccepted,
  Site,
  SiteDay,
  SiteEnergy,
  SitePage,
} from './responses.ts';
import type { DeviceSummary } from './responses.ts';
import { DEFAULT_RETRY_POLICY } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

export interface GridstreamClientOptions {
  /** Where the API is, e.g. `https://gridstream.example.com` or `http://127.0.0.1:8080`. */
  readonly baseUrl: string | URL;
  /** An API key (`gs_<id>_<secret>`), sent as `Authorization: Bearer <key>`. */
  readonly apiKey: string;
  /** Overrides of DEFAULT_RETRY_POLICY. */
  readonly retry?: Partial<RetryPolicy>;
  /** How long one attempt may take (default 30 s); a slower one is retried as a network failure. */
  readonly attemptTimeoutMs?: number;
  /** The fetch to use (default the global one, Node 22 and later). */
  readonly fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Aborts the request, and any wait for a retry; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface IngestOptions extends RequestOptions {
  /**
   * The batch's Idempotency-Key (1-255 characters): the same key and readings again answer the
   * first 202, with the same ids, and publish nothing; other readings under it are refused 422.
   * Default: a new random UUID per call, sent unchanged on each retry of that call.
   */
  readonly idempotencyKey?: string;
}

export interface IngestResult {
  /** Readings accepted: all of the batch. */
  readonly accepted: number;
  /** Each reading's event id, in order. */
  readonly ids: readonly string[];
  /** True when the API answered from the key's record: an earlier attempt had published it. */
  readonly replayed: boolean;
  /** The key the batch was sent under. */
  readonly idempotencyKey: string;
  readonly attempts: number;
}

/** An instant as the API's queries take it: ISO 8601 with an offset, or a Date. */
export type Instant = string | Date;

export interface DeviceQuery {
  readonly siteId?: string;
  readonly kind?: string;
  readonly status?: 'active' | 'decommissioned' | 'unregistered';
  /** Part of the device id or name, any case. */
  readonly q?: string;
  readonly cursor?: string;
  /** 1 to 1000, default 100. */
  readonly limit?: number;
}

export interface RangeQuery {
  readonly from?: Instant;
  /** Exclusive. */
  readonly to?: Instant;
}

export interface ReadingsQuery extends RangeQuery {
  readonly limit?: number;
}

export interface EnergyQuery extends RangeQuery {
  readonly bucket?: '15m' | '1h' | '1d' | '1mo' | '1y';
  /** IANA name whose local hours, days, months and years the buckets follow; default UTC. */
  readonly timeZone?: string;
}

export interface SiteQuery {
  readonly status?: 'open' | 'closed';
  readonly cursor?: string;
  readonly limit?: number;
}

const instant = (value: Instant | undefined) =>
  value instanceof Date ? value.toISOString() : value;
const id = (value: string) => encodeURIComponent(value);

/**
 * gridstream's HTTP API: ingest and queries, each answer checked against the documented shape.
 * A request answered 429 or 503 (or not at all) is sent again after `retry-after`, or with
 * backoff, a bounded number of times (RetryPolicy); an error answer the client does not retry
 * is thrown as a GridstreamApiError with the API's code, reason and issues.
 */
export class GridstreamClient {
  readonly #transport: Transport;

  constructor(options: GridstreamClientOptions) {
    const baseUrl = new URL(options.baseUrl);
    // a base with a path (https://host/gridstream) keeps it: relative paths resolve below it
    if (!baseUrl.pathname.endsWith('/')) baseUrl.pathname += '/';
    this.#transport = {
      baseUrl,
      apiKey: options.apiKey,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      attemptTimeoutMs: options.attemptTimeoutMs ?? 30_000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      random: Math.random,
      now: Date.now,
    };
  }

  /**
   * POST /v1/readings: 1 to 1000 readings, answered once Kafka has them all. The batch is sent
   * under one Idempotency-Key on every attempt, so a retry after a lost answer publishes nothing
   * twice.
   */
  async ingest(
    readings: readonly ReadingInput[],
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    if (readings.length === 0 || readings.length > MAX_READINGS_PER_REQUEST)
      throw new RangeError(
        `a batch has 1 to ${MAX_READINGS_PER_REQUEST} readings, not ${readings.length}: split it, one key per batch`,
      );
    const idempotencyKey = options.idempotencyKey ?? globalThis.crypto.randomUUID();
    const answer = await send(this.#transport, {
      method: 'POST',
      path: '/v1/readings',
      headers: { 'idempotency-key': idempotencyKey },
      body: { readings },
      answer: ReadingsAccepted,
      signal: options.signal,
    });
    return {
      accepted: answer.body.accepted,
      ids: answer.body.ids,
      replayed: answer.headers.get('idempotent-replayed') === 'true',
      idempotencyKey,
      attempts: answer.attempts,
    };
  }

  /** GET /v1/devices: one page, ordered by id; pass `nextCursor` as `cursor` for the next. */
  async listDevices(query: DeviceQuery = {}, options: RequestOptions = {}): Promise<DevicePage> {
    return this.#get('/v1/devices', { ...query }, DevicePage, options);
  }

  /** Every device matching `query`, page after page. */
  async *devices(
    query: Omit<DeviceQuery, 'cursor'> = {},
    options: RequestOptions = {},
  ): AsyncGenerator<DeviceSummary, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.listDevices({ ...query, cursor }, options);
      yield* page.devices;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  /** GET /v1/devices/:id: registry entry, status, last reading, connectivity, today's energy. */
  async getDevice(deviceId: string, options: RequestOptions = {}): Promise<Device> {
    return this.#get(`/v1/devices/${id(deviceId)}`, {}, Device, options);
  }

  /** GET /v1/devices/:id/readings: stored readings in [from, to) (default the last hour). */
  async getDeviceReadings(
    deviceId: string,
    query: ReadingsQuery = {},
    options: RequestOptions = {},
  ): Promise<DeviceReadings> {
    return this.#get(
      `/v1/devices/${id(deviceId)}/readings`,
      { from: instant(query.from), to: instant(query.to), limit: query.limit },
      DeviceReadings,
      options,
    );
  }

  /** GET /v1/devices/:id/energy: import and export per bucket. */
  async getDeviceEnergy(
    deviceId: string,
    query: EnergyQuery = {},
    options: RequestOptions = {},
  ): Promise<DeviceEnergy> {
    return this.#get(
      `/v1/devices/${id(deviceId)}/energy`,
      { ...query, from: instant(query.from), to: instant(query.to) },
      DeviceEnergy,
      options,
    );
  }

  /** GET /v1/sites: one page of sites with their devices in service and today's energy. */
  async listSites(query: SiteQuery = {}, options: RequestOptions = {}): Promise<SitePage> {
    return this.#get('/v1/sites', { ...query }, SitePage, options);
  }

  /** GET /v1/sites/:id */
  async getSite(siteId: string, options: RequestOptions = {}): Promise<Site> {
    return this.#get(`/v1/sites/${id(siteId)}`, {}, Site, options);
  }

  /** GET /v1/sites/:id/energy: the site's balance per bucket. */
  async getSiteEnergy(
    siteId: string,
    query: EnergyQuery = {},
    options: RequestOptions = {},
  ): Promise<SiteEnergy> {
    return this.#get(
      `/v1/sites/${id(siteId)}/energy`,
      { ...query, from: instant(query.from), to: instant(query.to) },
      SiteEnergy,
      options,
    );
  }

  /** GET /v1/sites/:id/energy/days/:date: a local day (YYYY-MM-DD in the site's zone), per device. */
  async getSiteDay(siteId: string, date: string, options: RequestOptions = {}): Promise<SiteDay> {
    return this.#get(`/v1/sites/${id(siteId)}/energy/days/${id(date)}`, {}, SiteDay, options);
  }

  async #get<T>(
    path: string,
    query: Readonly<Record<string, string | number | undefined>>,
    answer: z.ZodType<T>,
    options: RequestOptions,
  ): Promise<T> {
    const result = await send(this.#transport, {
      method: 'GET',
      path,
      query,
      answer,
      signal: options.signal,
    });
    return result.body;
  }
}
