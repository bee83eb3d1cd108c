import { mongoClient } from '@gridstream/mongo';
import type { MongoClient } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { isolatedConfig, bearer } from '../../../../test/support.ts';
import { readTopic, teardown } from '../../../../test/cleanup.ts';
import { startApi } from '../server.ts';
import type { RunningApi } from '../server.ts';
import { batchFingerprint, keyedReadingId } from '../ingest/keyed-batch.ts';
import { readReadingBatch } from '../ingest/reading-batch.ts';
import { READING_KEYS_COLLECTION } from '../ingest/reading-keys.ts';
import { IngestMetric } from '../metrics.ts';

// POST /v1/readings with an Idempotency-Key and under load, on the real Kafka and FerretDB:
// what Kafka got is counted, not assumed.

const config = isolatedConfig();
const stopAfterAll = teardown(config);
let api: RunningApi;
let acme = '';
let globex = '';
let mongo: MongoClient;

beforeAll(async () => {
  api = await startApi(config, { listen: false });
  stopAfterAll(() => api.close());
  acme = await bearer(api, 'acme', ['ingest']);
  globex = await bearer(api, 'globex', ['ingest']);
  mongo = mongoClient(config);
  stopAfterAll(() => mongo.close());
});

const batch = (deviceId: string, count: number, powerW = 100) => ({
  readings: Array.from({ length: count }, (_, i) => ({
    deviceId,
    time: new Date(Date.now() - 60_000 + i).toISOString(),
    powerW: powerW + i,
  })),
});

const post = (target: RunningApi, authorization: string, payload: unknown, key?: string) =>
  target.app.inject({
    method: 'POST',
    url: '/v1/readings',
    headers: {
      authorization,
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

/** How many records of each event id the readings topic holds. */
async function publishedIds(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { headers } of await readTopic(config, 'readings')) {
    const id = headers['ce_id'] ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const idsOf = (response: { json(): unknown }) => (response.json() as { ids: string[] }).ids;

describe('POST /v1/readings with an Idempotency-Key', () => {
  it('answers the same batch sent again with the same ids, and Kafka has it once', async () => {
    // given a batch of 50 readings posted under a key
    const body = batch('meter-same', 50);
    const first = await post(api, acme, body, 'batch-1');
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBe('false');
    // when it is sent again, once as it was and once with other whitespace and key order
    const again = await post(api, acme, body, 'batch-1');
    const respelled = await post(
      api,
      acme,
      JSON.stringify(
        {
          readings: body.readings.map(({ powerW, time, deviceId }) => ({ powerW, time, deviceId })),
        },
        null,
        2,
      ),
      'batch-1',
    );
    // then both answer the first answer, marked replayed
    for (const replay of [again, respelled]) {
      expect(replay.statusCode).toBe(202);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json()).toEqual(first.json());
    }
    // and the topic holds each of the 50 ids exactly once
    const ids = idsOf(first);
    expect(new Set(ids).size).toBe(50);
    const published = await publishedIds();
    expect(ids.map((id) => published.get(id))).toEqual(ids.map(() => 1));
  });

  it('refuses another batch under a used key with 422, publishing nothing of it', async () => {
    const first = await post(api, acme, batch('meter-reuse', 3), 'batch-2');
    expect(first.statusCode).toBe(202);
    const before = await publishedIds();
    // when another batch comes with the same key
    const other = await post(api, acme, batch('meter-reuse', 3, 999), 'batch-2');
    // then it is refused in the API's error format, naming the header
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({
      code: 'REFUSED',
      reason: 'idempotency-key-reused',
      issues: [{ in: 'headers', path: 'idempotency-key' }],
    });
    // and nothing more is on the topic
    expect([...(await publishedIds()).values()].reduce((a, b) => a + b, 0)).toBe(
      [...before.values()].reduce((a, b) => a + b, 0),
    );
  });

  it("keeps each tenant's keys apart", async () => {
    // given acme's batch under a key, when globex posts its own under the same key
    const ofAcme = await post(api, acme, batch('meter-t', 2), 'shared-key');
    const ofGlobex = await post(api, globex, batch('meter-t', 2, 7), 'shared-key');
    // then globex's is taken as new, with ids of its own
    expect(ofAcme.statusCode).toBe(202);
    expect(ofGlobex.statusCode).toBe(202);
    expect(ofGlobex.headers['idempotent-replayed']).toBe('false');
    expect(idsOf(ofGlobex).some((id) => idsOf(ofAcme).includes(id))).toBe(false);
  });

  it('lets exactly one of eight racing requests with one key publish, in each of five rounds', async () => {
    const answers: number[] = [];
    for (let round = 0; round < 5; round++) {
      // given one batch sent eight times at once under one key
      const body = batch(`meter-race-${round}`, 200);
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => post(api, acme, body, `race-${round}`)),
      );
      answers.push(...responses.map((r) => r.statusCode));
      // then one published it; the others answered its ids again, or 409 with retry-after
      const accepted = responses.filter((r) => r.statusCode === 202);
      expect(accepted.filter((r) => r.headers['idempotent-replayed'] === 'false')).toHaveLength(1);
      for (const response of responses)
        if (response.statusCode === 409) {
          expect(response.headers['retry-after']).toBe('1');
          expect(response.json()).toMatchObject({
            code: 'CONFLICT',
            reason: 'idempotency-key-in-progress',
          });
        } else expect(response.statusCode).toBe(202);
      const [publisher] = accepted.filter((r) => r.headers['idempotent-replayed'] === 'false');
      if (publisher === undefined) throw new Error('no request published the batch');
      const ids = idsOf(publisher);
      for (const response of accepted) expect(idsOf(response)).toEqual(ids);
      // and the topic has the batch once
      const published = await publishedIds();
      expect(ids.map((id) => published.get(id))).toEqual(ids.map(() => 1));
    }
    console.log(
      `racing answers: ${answers.filter((s) => s === 409).length} × 409 of ${answers.length}`,
    );
  });

  it('answers 409 while a claim holds, and takes over one that ran out (its API died) with the same ids', async () => {
    // given records of two keys claimed by a request that died after claiming: one claim still
    // holding, one run out
    const body = batch('meter-crash', 20);
    const read = readReadingBatch(new TextEncoder().encode(JSON.stringify(body)));
    if (!read.ok) throw new Error('the test batch is invalid');
    const fingerprint = batchFingerprint(read.readings);
    const keys = mongo.db(config.GS_MONGO_DB).collection(READING_KEYS_COLLECTION);
    const died = (key: string, publishingUntilMs: number) => ({
      _id: `acme/${key}` as unknown as never,
      tenant: 'acme',
      fingerprint,
      accepted: 20,
      published: false,
      publishingUntilMs,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3600_000),
    });
    await keys.insertMany([
      died('crash-holding', Date.now() + 60_000),
      died('crash-over', Date.now() - 1),
    ]);
    // when the batch is sent again under each
    const holding = await post(api, acme, body, 'crash-holding');
    const over = await post(api, acme, body, 'crash-over');
    // then the first is told to come back, and the second is published, with the ids the dead
    // request would have answered
    expect(holding.statusCode).toBe(409);
    expect(holding.headers['retry-after']).toBe('1');
    expect(over.statusCode).toBe(202);
    expect(over.headers['idempotent-replayed']).toBe('false');
    const ids = Array.from({ length: 20 }, (_, i) =>
      keyedReadingId('acme', 'crash-over', fingerprint, i),
    );
    expect(idsOf(over)).toEqual(ids);
    const published = await publishedIds();
    expect(ids.map((id) => published.get(id))).toEqual(ids.map(() => 1));
    // and the record is published now: the next retry is a replay
    expect(
      (await keys.findOne({ _id: 'acme/crash-over' as unknown as never }))?.['published'],
    ).toBe(true);
  });

  it('takes a batch without a key as before: new ids each time', async () => {
    const body = batch('meter-unkeyed', 2);
    const [a, b] = [await post(api, acme, body), await post(api, acme, body)];
    expect(a.statusCode).toBe(202);
    expect(a.headers['idempotent-replayed']).toBeUndefined();
    expect(idsOf(a).some((id) => idsOf(b).includes(id))).toBe(false);
  });
});

describe('POST /v1/readings load shedding (GS_API_INGEST_MAX_IN_FLIGHT=1)', () => {
  const shedConfig = isolatedConfig({ GS_API_INGEST_MAX_IN_FLIGHT: '1' });
  const stopShedAfterAll = teardown(shedConfig);
  let shedding: RunningApi;
  let key = '';
  beforeAll(async () => {
    shedding = await startApi(shedConfig, { listen: false });
    stopShedAfterAll(() => shedding.close());
    key = await bearer(shedding, 'acme', ['ingest']);
  });

  const metric = async (name: string) => {
    const text = (await shedding.app.inject({ url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1]);
  };

  it('sheds what is beyond the bound with 503 and retry-after, unread, and loses nothing accepted', async () => {
    // given twenty full batches at once, where one may be in flight
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(shedding, key, batch(`meter-shed-${i}`, 1000))),
    );
    const accepted = responses.filter((r) => r.statusCode === 202);
    const shed = responses.filter((r) => r.statusCode === 503);
    // then some were shed, each with retry-after and the API's error format, and the rest taken
    expect(shed.length).toBeGreaterThan(0);
    expect(accepted.length + shed.length).toBe(20);
    for (const response of shed) {
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({ code: 'OVERLOADED', reason: 'overloaded' });
    }
    // and every accepted reading is on Kafka, once
    const counts = new Map<string, number>();
    for (const { headers } of await readTopic(shedConfig, 'readings'))
      counts.set(headers['ce_id'] ?? '', (counts.get(headers['ce_id'] ?? '') ?? 0) + 1);
    const acceptedIds = accepted.flatMap(idsOf);
    expect(acceptedIds).toHaveLength(accepted.length * 1000);
    expect(acceptedIds.filter((id) => counts.get(id) !== 1)).toEqual([]);
    // and the shed ones are counted, and no slot is left taken
    expect(await metric(IngestMetric.shedBatches)).toBe(shed.length);
    expect(await metric(IngestMetric.batchesInFlight)).toBe(0);
    console.log(`shedding: ${shed.length} of 20 batches answered 503, ${accepted.length} accepted`);
  });

  it('gives the slot back after a body too large, an invalid body and a key conflict', async () => {
    const tooLarge = await post(shedding, key, `{"readings":[${'"x",'.repeat(600_000)}"x"]}`);
    expect(tooLarge.statusCode).toBe(413);
    expect((await post(shedding, key, { readings: [] })).statusCode).toBe(400);
    expect((await post(shedding, key, batch('meter-slot', 1), 'slot-key')).statusCode).toBe(202);
    expect((await post(shedding, key, batch('meter-slot', 1, 5), 'slot-key')).statusCode).toBe(422);
    // then a batch is still taken: the bound of one is free again
    expect((await post(shedding, key, batch('meter-slot', 1))).statusCode).toBe(202);
    expect(await metric(IngestMetric.batchesInFlight)).toBe(0);
  });
});
