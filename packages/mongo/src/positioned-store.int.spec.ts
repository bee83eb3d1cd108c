import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection } from 'mongodb';
import { isolatedConfig } from '../../../test/support.ts';
import {
  applyPositionedBatch,
  connectMongo,
  versionedWriteOperation,
  writeVersioned,
} from './index.ts';
import type { MongoConnection, PositionedChange, StoredDocument } from './index.ts';

interface Counter {
  total: number;
  seen: string[];
}

const fold = (state: Counter | null, input: { add: number; label: string }): Counter => ({
  total: (state?.total ?? 0) + input.add,
  seen: [...(state?.seen ?? []), input.label],
});

function change(
  documentId: string,
  offset: number,
  add: number,
  topic = 'readings',
): PositionedChange<{ add: number; label: string }> {
  return {
    documentId,
    position: { topic, partition: 0, offset: String(offset) },
    input: { add, label: `${topic}@${offset}` },
  };
}

let mongo: MongoConnection;
let collection: Collection<StoredDocument<Counter>>;

beforeAll(async () => {
  mongo = await connectMongo(isolatedConfig());
  collection = mongo.db.collection<StoredDocument<Counter>>('counters');
});

afterAll(async () => {
  await mongo.db.dropDatabase();
  await mongo.close();
});

describe('applyPositionedBatch against the real MongoDB-compatible server', () => {
  it('applies each position once, however often a batch is redelivered', async () => {
    // given a batch applied once
    const batch = [change('a', 0, 1), change('a', 1, 10), change('b', 2, 100)];
    await applyPositionedBatch(collection, batch, fold);
    // when the same batch and an overlapping one arrive again (a redelivery after a crash)
    await applyPositionedBatch(collection, batch, fold);
    await applyPositionedBatch(collection, [change('a', 1, 10), change('a', 3, 1000)], fold);
    // then every position counted once, in order
    const a = await collection.findOne({ _id: 'a' });
    expect(a?.state).toEqual({ total: 1011, seen: ['readings@0', 'readings@1', 'readings@3'] });
    expect(a?._meta.version).toBe(2);
    expect((await collection.findOne({ _id: 'b' }))?.state.total).toBe(100);
  });

  it('keeps positions per topic, since offsets of different topics are unrelated', async () => {
    await applyPositionedBatch(
      collection,
      [change('c', 5, 1, 'readings'), change('c', 0, 2, 'devices')],
      fold,
    );
    await applyPositionedBatch(
      collection,
      [change('c', 1, 4, 'devices'), change('c', 5, 8, 'readings')],
      fold,
    );
    const c = await collection.findOne({ _id: 'c' });
    expect(c?.state.total).toBe(7);
    expect(c?._meta.positions).toEqual(
      expect.arrayContaining([
        { topic: 'readings', partition: 0, offset: '5' },
        { topic: 'devices', partition: 0, offset: '1' },
      ]),
    );
  });

  it('loses nothing when two writers race on the same new documents', async () => {
    // given two consumers that both believe they own documents d1..d20 (a rebalance)
    const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const first = ids.map((id) => change(id, 0, 1, 'readings'));
    const second = ids.map((id) => change(id, 0, 1, 'devices'));
    // when they write at the same time
    await Promise.all([
      applyPositionedBatch(collection, first, fold),
      applyPositionedBatch(collection, second, fold),
    ]);
    // then each document holds both inputs exactly once
    const docs = await collection.find({ _id: { $in: ids } }).toArray();
    expect(docs).toHaveLength(20);
    for (const doc of docs) expect(doc.state.total).toBe(2);
  });
});

describe('the version guard, on the real server', () => {
  it('lets one of eight concurrent writers of one version through, in every round', async () => {
    // FerretDB 1.24 read the matches and wrote them back in two steps: up to eight of eight
    // "won" (deploy/local/ferretdb/patches: msg_update.go, patch 2)
    const winners: number[] = [];
    for (let round = 0; round < 10; round++) {
      const id = `guarded-${round}`;
      const first = { state: { total: 0, seen: [] as string[] }, positions: [] };
      expect(
        await writeVersioned(collection, [versionedWriteOperation(id, undefined, first)]),
      ).toBe(true);
      const before = (await collection.findOne({ _id: id })) ?? undefined;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          writeVersioned(collection, [
            versionedWriteOperation(id, before, {
              state: { total: i, seen: [`writer ${i}`] },
              positions: [],
            }),
          ]),
        ),
      );
      winners.push(results.filter(Boolean).length);
    }
    expect(winners).toEqual(Array.from({ length: 10 }, () => 1));
  });
});
